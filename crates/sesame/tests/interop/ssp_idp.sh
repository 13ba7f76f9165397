#!/usr/bin/env bash
# A SimpleSAMLphp 1.19 identity provider (Debian's `simplesamlphp` under Apache + mod_php) on
# loopback, entirely under one directory: its own keys, configuration, metadata and state.
#
#   ssp_idp.sh setup DIR HTTP_PORT SP_METADATA_FILE USER PASSWORD EMAIL IMMUTABLE_ID
#       writes DIR/config/{config,authsources}.php, the hosted IdP's metadata (persistent NameID
#       taken from the user's `immutableId` attribute, the e-mail released, RSA-SHA256), the
#       SP's metadata as XML, keys, and DIR/httpd.conf; prints the IdP's entityID. EMAIL is
#       released both as IDPEmail (domain federation, seed 001) and as the emailaddress claim
#       (guests through direct federation, seed 002).
#
# The Rust test (tests/federation_interop.rs) then runs `apache2 -X -f DIR/httpd.conf`.
# Endpoints: entityID http://127.0.0.1:PORT/simplesaml/saml2/idp/metadata.php, SSO (Redirect and
# POST) http://127.0.0.1:PORT/simplesaml/saml2/idp/SSOService.php, signing cert DIR/config/idp.crt.
set -euo pipefail

[ "${1:-}" = setup ] && [ $# -eq 8 ] || {
    echo "usage: $0 setup DIR HTTP_PORT SP_METADATA_FILE USER PASSWORD EMAIL IMMUTABLE_ID" >&2
    exit 2
}
dir=$(realpath -m "$2"); port=$3; sp_md=$(realpath -m "$4")
user=$5; password=$6; email=$7; immutable=$8
mkdir -p "$dir/config/metadata" "$dir/logs" "$dir/run" "$dir/tmp" "$dir/data"
# Apache's worker switches to www-data: it must read the config and write its temp files.
chmod 755 "$dir" "$dir/config" "$dir/config/metadata"
chmod 777 "$dir/tmp" "$dir/data" "$dir/logs"
cp "$sp_md" "$dir/config/metadata/sp.xml"
chmod 644 "$dir/config/metadata/sp.xml"

if [ ! -f "$dir/config/idp.key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -sha256 \
        -subj "/CN=127.0.0.1/O=sesame-interop-simplesamlphp" \
        -keyout "$dir/config/idp.key" -out "$dir/config/idp.crt" 2>/dev/null
    chmod 644 "$dir/config/idp.key" "$dir/config/idp.crt"
fi

# Debian's defaults, then ours.
cat > "$dir/config/config.php" <<EOF
<?php
require '/etc/simplesamlphp/config.php';
\$config['baseurlpath'] = 'http://127.0.0.1:$port/simplesaml/';
\$config['certdir'] = '$dir/config/';
\$config['loggingdir'] = '$dir/logs/';
\$config['datadir'] = '$dir/data/';
\$config['tempdir'] = '$dir/tmp/';
\$config['metadatadir'] = '$dir/config/metadata/';
\$config['secretsalt'] = 'sesame-interop-$(openssl rand -hex 16)';
\$config['auth.adminpassword'] = 'sesame-interop-admin';
\$config['technicalcontact_email'] = 'interop@sesame.example';
\$config['enable.saml20-idp'] = true;
\$config['store.type'] = 'phpsession';
// Plain HTTP on loopback: no Secure cookies, and SameSite=None needs Secure, so none.
\$config['session.cookie.secure'] = false;
\$config['session.cookie.samesite'] = null;
\$config['session.phpsession.cookiename'] = 'SimpleSAML';
\$config['language.cookie.secure'] = false;
\$config['language.cookie.samesite'] = null;
\$config['session.phpsession.savepath'] = '$dir/tmp/';
\$config['logging.handler'] = 'file';
\$config['logging.logfile'] = 'simplesamlphp.log';
\$config['logging.level'] = SimpleSAML\Logger::INFO;
\$config['module.enable'] = ['exampleauth' => true, 'core' => true, 'saml' => true];
\$config['metadata.sources'] = [
    ['type' => 'flatfile'],
    ['type' => 'xml', 'file' => '$dir/config/metadata/sp.xml'],
];
EOF

cat > "$dir/config/authsources.php" <<EOF
<?php
\$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
        '$user:$password' => [
            'uid' => ['$user'],
            'IDPEmail' => ['$email'],
            'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress' => ['$email'],
            'immutableId' => ['$immutable'],
        ],
    ],
];
EOF

cat > "$dir/config/metadata/saml20-idp-hosted.php" <<EOF
<?php
\$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    // LogoutRequests must be signed by a key of the SP's metadata (profiles §4.4.4.1).
    'validate.logout' => true,
    // Its LogoutResponses signed too: Sésame checks them with the federation's certificate.
    'sign.logout' => true,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'authproc' => [
        10 => [
            'class' => 'saml:AttributeNameID',
            'attribute' => 'immutableId',
            'Format' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
        ],
        20 => [
            'class' => 'core:AttributeLimit',
            'IDPEmail',
            'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
        ],
    ],
];
EOF
chmod 644 "$dir"/config/*.php "$dir"/config/metadata/*.php

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
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so
TypesConfig /etc/mime.types
ErrorLog "$dir/logs/apache-error.log"
LogLevel warn
LogFormat "%h %t \"%r\" %>s %b" plain
CustomLog "$dir/logs/apache-access.log" plain
UseCanonicalName On
DocumentRoot "/usr/share/simplesamlphp/www"
<Directory />
    Require all denied
</Directory>
SetEnv SIMPLESAMLPHP_CONFIG_DIR "$dir/config"
Alias /simplesaml /usr/share/simplesamlphp/www
<Directory /usr/share/simplesamlphp/www>
    Require all granted
    DirectoryIndex index.php
    <FilesMatch "\.php$">
        SetHandler application/x-httpd-php
    </FilesMatch>
</Directory>
EOF
echo "http://127.0.0.1:$port/simplesaml/saml2/idp/metadata.php"
