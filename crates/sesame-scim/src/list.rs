//! Listing helpers (RFC 7644 §3.4.2): pagination (§3.4.2.4), sorting (§3.4.2.3) and the
//! `ListResponse` envelope (§3.4.2).

use std::cmp::Ordering;

use serde_json::{Value, json};

use crate::error::ScimError;
use crate::filter::eval::compare_values;
use crate::path::{AttrPath, container_of, get_ci};
use crate::schema::{AttrType, ResourceType};

/// The schema URN of a list response (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A page request: `startIndex` is 1-based, `count` already bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub start_index: usize,
    pub count: usize,
}

impl Page {
    /// RFC 7644 §3.4.2.4: "A value less than 1 SHALL be interpreted as 1" for startIndex;
    /// a negative count is 0; a count above `max_count` is lowered to it (the server MAY
    /// return fewer results than requested); no count means `default_count`.
    pub fn new(
        start_index: Option<i64>,
        count: Option<i64>,
        default_count: usize,
        max_count: usize,
    ) -> Page {
        let start_index = start_index.map_or(1, |s| usize::try_from(s.max(1)).unwrap_or(1));
        let count = count.map_or(default_count, |c| usize::try_from(c.max(0)).unwrap_or(0));
        Page {
            start_index,
            count: count.min(max_count),
        }
    }

    /// Parses the raw query parameters; non-integers are `invalidValue`.
    pub fn parse(
        start_index: Option<&str>,
        count: Option<&str>,
        default_count: usize,
        max_count: usize,
    ) -> Result<Page, ScimError> {
        let int = |name: &str, v: Option<&str>| -> Result<Option<i64>, ScimError> {
            v.map(|s| {
                s.trim().parse::<i64>().map_err(|_| {
                    ScimError::InvalidValue(format!("'{name}' must be an integer, got '{s}'"))
                })
            })
            .transpose()
        };
        Ok(Page::new(
            int("startIndex", start_index)?,
            int("count", count)?,
            default_count,
            max_count,
        ))
    }

    /// The 0-based offset of the first result.
    pub fn offset(&self) -> usize {
        self.start_index - 1
    }

    /// The page of `items` (all results, already filtered and sorted).
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = self.offset().min(items.len());
        let end = start.saturating_add(self.count).min(items.len());
        &items[start..end]
    }
}

/// The `ListResponse` envelope; `itemsPerPage` is the number of resources returned.
pub fn list_response(resources: Vec<Value>, total_results: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total_results,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// `sortOrder` (RFC 7644 §3.4.2.3), case-insensitive; ascending by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Ascending,
    Descending,
}

/// A parsed `sortBy`/`sortOrder` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortSpec {
    pub path: AttrPath,
    pub order: SortOrder,
}

impl SortSpec {
    /// Parses the query parameters. A malformed `sortBy` or unknown `sortOrder` is
    /// `invalidValue`. An unknown attribute is accepted and sorts nothing (every value is
    /// missing).
    pub fn parse(sort_by: &str, sort_order: Option<&str>) -> Result<SortSpec, ScimError> {
        let path = AttrPath::parse(sort_by)
            .ok_or_else(|| ScimError::InvalidValue(format!("invalid sortBy '{sort_by}'")))?;
        let order = match sort_order.map(str::to_ascii_lowercase).as_deref() {
            None | Some("ascending") => SortOrder::Ascending,
            Some("descending") => SortOrder::Descending,
            Some(other) => {
                return Err(ScimError::InvalidValue(format!(
                    "sortOrder must be 'ascending' or 'descending', got '{other}'"
                )));
            }
        };
        Ok(SortSpec { path, order })
    }

    /// The value a resource sorts by: for a multi-valued attribute, its primary value, else
    /// its first (RFC 7644 §3.4.2.3).
    fn key<'a>(&self, r: &'a Value, rt: &ResourceType) -> Option<&'a Value> {
        let res = self.path.resolve(rt)?;
        let obj = container_of(r, res.container)?;
        let mut v = get_ci(obj, res.attr.name)?;
        if let Value::Array(items) = v {
            v = items
                .iter()
                .find(|i| {
                    i.as_object()
                        .and_then(|o| get_ci(o, "primary"))
                        .is_some_and(|p| p == &Value::Bool(true))
                })
                .or_else(|| items.first())?;
        }
        let sub = res.sub.or_else(|| res.attr.value_sub_attribute());
        if let (Some(s), Value::Object(o)) = (sub, v) {
            v = get_ci(o, s.name)?;
        }
        (!v.is_null()).then_some(v)
    }

    /// Compares two resources. Order follows the attribute's type and caseExact; resources
    /// without a value sort last in both orders, so they never crowd the first page.
    pub fn compare(&self, a: &Value, b: &Value, rt: &ResourceType) -> Ordering {
        let leaf = self.path.resolve(rt).map(|r| {
            r.sub
                .or_else(|| r.attr.value_sub_attribute())
                .unwrap_or(r.attr)
        });
        let Some(def) = leaf.filter(|d| d.ty != AttrType::Complex) else {
            return Ordering::Equal;
        };
        match (self.key(a, rt), self.key(b, rt)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = compare_values(x, y, def);
                match self.order {
                    SortOrder::Ascending => o,
                    SortOrder::Descending => o.reverse(),
                }
            }
        }
    }

    /// Sorts resources in place (stable, so equal keys keep the store's order).
    pub fn sort(&self, items: &mut [Value], rt: &ResourceType) {
        items.sort_by(|a, b| self.compare(a, b, rt));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::USER_RESOURCE;

    #[test]
    fn pagination_bounds() {
        assert_eq!(
            Page::new(None, None, 100, 200),
            Page {
                start_index: 1,
                count: 100
            }
        );
        assert_eq!(
            Page::new(Some(0), Some(-5), 100, 200),
            Page {
                start_index: 1,
                count: 0
            }
        );
        assert_eq!(
            Page::new(Some(-3), Some(10_000), 100, 200),
            Page {
                start_index: 1,
                count: 200
            }
        );
        let p = Page::new(Some(3), Some(2), 100, 200);
        assert_eq!(p.slice(&[1, 2, 3, 4, 5]), &[3, 4]);
        assert_eq!(
            Page::new(Some(9), Some(2), 100, 200).slice(&[1, 2]),
            &[] as &[i32]
        );
        assert_eq!(p.offset(), 2);
        assert!(Page::parse(Some("x"), None, 1, 1).is_err());
        assert_eq!(
            Page::parse(Some(" 2 "), Some("1"), 1, 5),
            Ok(Page {
                start_index: 2,
                count: 1
            })
        );
    }

    #[test]
    fn list_response_envelope() {
        let r = list_response(vec![json!({"id": "a"})], 10, 3);
        assert_eq!(r["schemas"][0], LIST_RESPONSE_SCHEMA);
        assert_eq!(r["totalResults"], 10);
        assert_eq!(r["itemsPerPage"], 1);
        assert_eq!(r["startIndex"], 3);
        assert_eq!(r["Resources"][0]["id"], "a");
    }

    fn ids(v: &[Value]) -> Vec<&str> {
        v.iter().filter_map(|r| r["id"].as_str()).collect()
    }

    #[test]
    fn sorting_uses_case_rules_and_types() {
        let mut users = vec![
            json!({"id": "1", "userName": "bob", "meta": {"created": "2020-01-01T01:00:00+02:00"},
                   "emails": [{"value": "z@x"}, {"value": "a@x", "primary": true}]}),
            json!({"id": "2", "userName": "Alice", "meta": {"created": "2020-01-01T00:00:00Z"}}),
            json!({"id": "3", "userName": "carol", "emails": [{"value": "m@x"}]}),
            json!({"id": "4", "externalId": "B", "userName": "dave"}),
            json!({"id": "5", "externalId": "a", "userName": "Eve"}),
        ];
        let by = |s: &str, o: Option<&str>| SortSpec::parse(s, o).unwrap();
        by("userName", None).sort(&mut users, &USER_RESOURCE);
        assert_eq!(ids(&users), ["2", "1", "3", "4", "5"]);
        by("USERNAME", Some("Descending")).sort(&mut users, &USER_RESOURCE);
        assert_eq!(ids(&users), ["5", "4", "3", "1", "2"]);
        // externalId is caseExact: "B" < "a"; missing values last.
        by("externalId", None).sort(&mut users, &USER_RESOURCE);
        assert_eq!(ids(&users), ["4", "5", "3", "1", "2"]);
        // dateTime sorts by instant: 2020-01-01T01:00+02:00 is before 00:00Z.
        by("meta.created", None).sort(&mut users, &USER_RESOURCE);
        assert_eq!(&ids(&users)[..2], ["1", "2"]);
        // Multi-valued: the primary value, else the first.
        by("emails", None).sort(&mut users, &USER_RESOURCE);
        assert_eq!(&ids(&users)[..2], ["1", "3"]);
        assert!(SortSpec::parse("userName", Some("up")).is_err());
        assert!(SortSpec::parse("a..b", None).is_err());
    }
}
