#!/usr/bin/env bash
# A Shibboleth SP 3 (shibd + Apache with mod_shib) on loopback, entirely under one directory:
# its own keys, configuration, logs and state; never the system services.
#
#   shib_sp.sh setup DIR HTTP_PORT SHIBD_PORT IDP_ENTITY_ID IDP_METADATA_FILE
#       writes DIR/shibboleth2.xml, DIR/httpd.conf, keys, attribute map, the protected CGI page.
#   shib_sp.sh run DIR
#       (for debugging by hand) starts shibd then Apache in the foreground; Ctrl-C stops both.
#
# The Rust test (tests/saml_interop.rs) runs `setup`, then starts the two processes itself:
#   shibd -F -f -c DIR/shibboleth2.xml -p DIR/shibd.pid
#   apache2 -X -f DIR/httpd.conf          (one process; a kill stops it all)
#
# The SP's entityID is http://127.0.0.1:HTTP_PORT/shibboleth, its ACS
# http://127.0.0.1:HTTP_PORT/Shibboleth.sso/SAML2/POST, its metadata at /Shibboleth.sso/Metadata.
# /secure/ is protected; /secure/whoami answers text/plain `key=value` lines (nameid, attributes).
set -euo pipefail

cmd=${1:-}
case "$cmd" in
setup)
    [ $# -eq 6 ] || { echo "usage: $0 setup DIR HTTP_PORT SHIBD_PORT IDP_ENTITY_ID IDP_METADATA_FILE" >&2; exit 2; }
    dir=$(realpath -m "$2"); port=$3; shibd_port=$4; idp=$5; idp_md=$(realpath -m "$6")
    mkdir -p "$dir/cgi" "$dir/logs" "$dir/run" "$dir/cache"
    # Apache's worker switches to www-data: it must read the config and the CGI page.
    chmod 755 "$dir" "$dir/cgi"
    base="http://127.0.0.1:$port"

    for use in signing encrypt; do
        if [ ! -f "$dir/sp-$use-key.pem" ]; then
            openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
                -subj "/CN=127.0.0.1/O=sesame-interop-shib-$use" \
                -keyout "$dir/sp-$use-key.pem" -out "$dir/sp-$use-cert.pem" 2>/dev/null
        fi
    done

    cat > "$dir/shibd.logger" <<EOF
log4j.rootCategory=INFO, file
log4j.category.XMLTooling.Signature.Debugger=INFO
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.fileName=$dir/logs/shibd.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=%d{%Y-%m-%d %H:%M:%S} %p %c %x: %m%n
EOF
    # mod_shib runs inside Apache (as www-data after the switch): log to stderr, i.e. Apache's error log.
    cat > "$dir/native.logger" <<EOF
log4j.rootCategory=INFO, console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=mod_shib %p %c %x: %m%n
EOF

    cat > "$dir/shibboleth2.xml" <<EOF
<SPConfig xmlns="urn:mace:shibboleth:3.0:native:sp:config"
    xmlns:conf="urn:mace:shibboleth:3.0:native:sp:config" clockSkew="180">
    <OutOfProcess logger="$dir/shibd.logger"/>
    <InProcess logger="$dir/native.logger"/>
    <TCPListener address="127.0.0.1" port="$shibd_port" acl="127.0.0.1"/>
    <StorageService type="Memory" id="mem" cleanupInterval="900"/>
    <SessionCache type="StorageService" StorageService="mem" cacheAssertions="true"
                  cacheAllowance="900" inprocTimeout="900" cleanupInterval="900"/>
    <ReplayCache StorageService="mem"/>
    <ApplicationDefaults entityID="$base/shibboleth" REMOTE_USER="nameid upn">
        <Sessions lifetime="28800" timeout="3600" relayState="ss:mem"
                  checkAddress="false" handlerSSL="false" cookieProps="http"
                  redirectLimit="exact" handlerURL="/Shibboleth.sso">
            <SSO entityID="$idp">SAML2</SSO>
            <Logout>SAML2 Local</Logout>
            <Handler type="MetadataGenerator" Location="/Metadata" signing="false"/>
            <Handler type="Status" Location="/Status" acl="127.0.0.1"/>
            <Handler type="Session" Location="/Session" showAttributeValues="true"/>
        </Sessions>
        <Errors supportContact="root@localhost" styleSheet="/shibboleth-sp/main.css"
            session="/etc/shibboleth/sessionError.html"
            metadata="/etc/shibboleth/metadataError.html"
            access="/etc/shibboleth/accessError.html"
            ssl="/etc/shibboleth/sslError.html"
            localLogout="/etc/shibboleth/localLogout.html"
            partialLogout="/etc/shibboleth/partialLogout.html"
            globalLogout="/etc/shibboleth/globalLogout.html"/>
        <MetadataProvider type="XML" validate="true" path="$idp_md"/>
        <AttributeExtractor type="XML" validate="true" reloadChanges="false" path="$dir/attribute-map.xml"/>
        <AttributeFilter type="XML" validate="true" path="$dir/attribute-policy.xml"/>
        <CredentialResolver type="File" use="signing"
            key="$dir/sp-signing-key.pem" certificate="$dir/sp-signing-cert.pem"/>
        <CredentialResolver type="File" use="encryption"
            key="$dir/sp-encrypt-key.pem" certificate="$dir/sp-encrypt-cert.pem"/>
    </ApplicationDefaults>
    <SecurityPolicyProvider type="XML" validate="true" path="/etc/shibboleth/security-policy.xml"/>
    <ProtocolProvider type="XML" validate="true" reloadChanges="false" path="/etc/shibboleth/protocols.xml"/>
</SPConfig>
EOF

    # What Sésame sends by default (Entra's claim names, NameFormat unspecified) and every NameID format.
    {
        echo '<Attributes xmlns="urn:mace:shibboleth:2.0:attribute-map" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        for f in urn:oasis:names:tc:SAML:2.0:nameid-format:persistent \
                 urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress \
                 urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified \
                 urn:oasis:names:tc:SAML:2.0:nameid-format:transient; do
            echo "  <Attribute name=\"$f\" id=\"nameid\"><AttributeDecoder xsi:type=\"NameIDAttributeDecoder\" formatter=\"\$Name\" defaultQualifiers=\"true\"/></Attribute>"
        done
        c=http://schemas.xmlsoap.org/ws/2005/05/identity/claims
        echo "  <Attribute name=\"$c/givenname\" id=\"givenName\"/>"
        echo "  <Attribute name=\"$c/surname\" id=\"sn\"/>"
        echo "  <Attribute name=\"$c/emailaddress\" id=\"mail\"/>"
        echo "  <Attribute name=\"$c/name\" id=\"upn\"/>"
        echo "  <Attribute name=\"urn:oid:0.9.2342.19200300.100.1.3\" id=\"mail\"/>"
        echo "  <Attribute name=\"urn:oid:2.5.4.42\" id=\"givenName\"/>"
        echo "  <Attribute name=\"urn:oid:2.5.4.4\" id=\"sn\"/>"
        echo '</Attributes>'
    } > "$dir/attribute-map.xml"

    cat > "$dir/attribute-policy.xml" <<'EOF'
<afp:AttributeFilterPolicyGroup xmlns="urn:mace:shibboleth:2.0:afp:mf:basic"
    xmlns:afp="urn:mace:shibboleth:2.0:afp" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
    <afp:AttributeFilterPolicy>
        <afp:PolicyRequirementRule xsi:type="ANY"/>
        <afp:AttributeRule attributeID="*" permitAny="true"/>
    </afp:AttributeFilterPolicy>
</afp:AttributeFilterPolicyGroup>
EOF

    cat > "$dir/cgi/whoami" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
echo "protected=yes"
for v in REMOTE_USER nameid upn mail givenName sn Shib_Identity_Provider Shib_Session_Index \
         Shib_Session_ID Shib_Authentication_Method Shib_AuthnContext_Class Shib_Assertion_Count; do
    eval "val=\${$v-}"
    [ -n "$val" ] && echo "$v=$val"
done
# mod_shib exports with dashes; sh cannot name those, env can.
env | grep -E '^Shib-' || true
EOF
    chmod 755 "$dir/cgi/whoami"

    cat > "$dir/httpd.conf" <<EOF
ServerRoot "$dir"
ServerName 127.0.0.1:$port
Listen 127.0.0.1:$port
PidFile "$dir/run/httpd.pid"
Mutex file:$dir/run default
DefaultRuntimeDir "$dir/run"
User www-data
Group www-data
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
LoadModule mod_shib /usr/lib/apache2/modules/mod_shib.so
ShibConfig "$dir/shibboleth2.xml"
ErrorLog "$dir/logs/apache-error.log"
LogLevel warn
LogFormat "%h %t \"%r\" %>s %b" plain
CustomLog "$dir/logs/apache-access.log" plain
UseCanonicalName On
DocumentRoot "$dir/cgi"
<Directory />
    Require all denied
</Directory>
<Location /Shibboleth.sso>
    SetHandler shib
    Require all granted
</Location>
ScriptAlias /secure/ "$dir/cgi/"
<Directory "$dir/cgi">
    Options +ExecCGI
    Require all granted
</Directory>
<Location /secure>
    AuthType shibboleth
    ShibRequestSetting requireSession 1
    ShibUseEnvironment On
    Require shib-session
</Location>
EOF
    echo "$base/shibboleth"
    ;;
run)
    dir=$(realpath "$2")
    trap 'kill $shibd_pid $apache_pid 2>/dev/null; wait' EXIT INT TERM
    shibd -F -f -c "$dir/shibboleth2.xml" -p "$dir/run/shibd.pid" & shibd_pid=$!
    sleep 2
    apache2 -X -f "$dir/httpd.conf" & apache_pid=$!
    wait
    ;;
*)
    echo "usage: $0 setup DIR HTTP_PORT SHIBD_PORT IDP_ENTITY_ID IDP_METADATA_FILE | run DIR" >&2
    exit 2
    ;;
esac
