/**
 * SimpleSAMLphp (Debian's package) as a SAML 2.0 identity provider for
 * federated-domain tests: Apache with mod_php in front of it, on a loopback
 * address over HTTPS, authenticating users against the Samba DC over LDAPS
 * (ldap:LDAP: the connector account finds the user by userPrincipalName,
 * then binds as the user with the typed password). The NameID is the
 * user's immutable id (base64 objectGUID, persistent format), as Entra ID
 * expects of a federated domain. A test fixture: the product never runs it.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const simpleSamlPhpAvailable = (): boolean => existsSync('/usr/share/simplesamlphp/www') && existsSync('/usr/lib/apache2/modules/libphp8.2.so') && existsSync('/usr/sbin/apache2');

export interface SimpleSamlIdp {
  /** https://IP:PORT */
  url: string;
  entityId: string;
  /** SingleSignOnService, HTTP-Redirect binding */
  ssoUrl: string;
  /** PEM of the certificate that signs assertions */
  signingCertificate: string;
  /** PEM of the certificate of its HTTPS endpoint (self-signed), for the browser to trust */
  tlsCertificate: string;
  stop(): Promise<void>;
}

export interface SimpleSamlOptions {
  ip: string;
  port: number;
  ldap: { url: string; caFile: string; baseDn: string; bindDn: string; password: string };
  sp: { entityId: string; acs: string };
}

const php = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const modules = ['mpm_prefork', 'authz_core', 'mime', 'dir', 'alias', 'env', 'socache_shmcb', 'ssl'];

function selfSigned(dir: string, name: string, san: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=${san}`,
    '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)], { stdio: 'ignore' });
  chmodSync(join(dir, `${name}.key`), 0o640);
  chownSync(join(dir, `${name}.key`), 0, Number(execFileSync('getent', ['group', 'www-data']).toString().split(':')[2]));
}

export async function startSimpleSamlIdp(o: SimpleSamlOptions): Promise<SimpleSamlIdp> {
  const dir = mkdtempSync(join(tmpdir(), 'skybridge-ssp-'));
  chmodSync(dir, 0o755);
  const www = Number(execFileSync('id', ['-u', 'www-data']).toString().trim());
  for (const d of ['config', 'metadata', 'cert', 'log', 'tmp']) mkdirSync(join(dir, d), { mode: 0o755 });
  for (const d of ['log', 'tmp']) chownSync(join(dir, d), www, -1);
  const url = `https://${o.ip}:${o.port}`;
  const entityId = `${url}/simplesaml/saml2/idp/metadata.php`;
  selfSigned(join(dir, 'cert'), 'idp', `DNS:idp.test`);
  selfSigned(dir, 'tls', `IP:${o.ip}`);

  writeFileSync(join(dir, 'config', 'config.php'), `<?php
include '/etc/simplesamlphp/config.php';
$config['baseurlpath'] = ${php(`${url}/simplesaml/`)};
$config['certdir'] = ${php(`${dir}/cert/`)};
$config['loggingdir'] = ${php(`${dir}/log/`)};
$config['tempdir'] = ${php(`${dir}/tmp/`)};
$config['metadatadir'] = ${php(`${dir}/metadata/`)};
$config['secretsalt'] = ${php(randomBytes(24).toString('hex'))};
$config['auth.adminpassword'] = ${php(randomBytes(24).toString('hex'))};
$config['enable.saml20-idp'] = true;
$config['logging.handler'] = 'file';
$config['logging.logfile'] = 'simplesamlphp.log';
$config['session.cookie.secure'] = true;
$config['store.type'] = 'phpsession';
`);
  writeFileSync(join(dir, 'config', 'authsources.php'), `<?php
$config = [
  'admin' => ['core:AdminPassword'],
  'samba' => [
    'ldap:LDAP',
    'hostname' => ${php(o.ldap.url)},
    'enable_tls' => false,
    'referrals' => false,
    'timeout' => 10,
    'attributes' => ['objectGUID', 'userPrincipalName', 'mail', 'displayName'],
    'search.enable' => true,
    'search.base' => ${php(o.ldap.baseDn)},
    'search.attributes' => ['userPrincipalName'],
    'search.username' => ${php(o.ldap.bindDn)},
    'search.password' => ${php(o.ldap.password)},
  ],
];
`);
  writeFileSync(join(dir, 'metadata', 'saml20-idp-hosted.php'), `<?php
$metadata['__DYNAMIC:1__'] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'samba',
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  'authproc' => [
    // the raw objectGUID bytes are no text: only their base64 form goes into the assertion
    10 => ['class' => 'core:PHP', 'code' => '$attributes["immutableid"] = [base64_encode($attributes["objectGUID"][0])]; unset($attributes["objectGUID"]);'],
    20 => ['class' => 'saml:AttributeNameID', 'attribute' => 'immutableid', 'Format' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
  ],
];
`);
  writeFileSync(join(dir, 'metadata', 'saml20-sp-remote.php'), `<?php
$metadata[${php(o.sp.entityId)}] = [
  'AssertionConsumerService' => ${php(o.sp.acs)},
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  'saml20.sign.assertion' => true,
];
`);
  writeFileSync(join(dir, 'apache.conf'), [
    `ServerRoot ${dir}`,
    `PidFile ${dir}/apache.pid`,
    `Listen ${o.ip}:${o.port}`,
    'ServerName idp.test',
    'User www-data',
    'Group www-data',
    ...modules.map((m) => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`),
    'LoadModule php_module /usr/lib/apache2/modules/libphp8.2.so',
    'TypesConfig /etc/mime.types',
    'StartServers 2',
    'MinSpareServers 1',
    'MaxSpareServers 4',
    'MaxRequestWorkers 8',
    `ErrorLog ${dir}/log/error.log`,
    'LogLevel warn',
    'DirectoryIndex index.php',
    '<FilesMatch "\\.php$">', '  SetHandler application/x-httpd-php', '</FilesMatch>',
    'SSLEngine on',
    `SSLCertificateFile ${dir}/tls.crt`,
    `SSLCertificateKeyFile ${dir}/tls.key`,
    'SSLSessionCache none',
    `SetEnv SIMPLESAMLPHP_CONFIG_DIR ${dir}/config`,
    'Alias /simplesaml /usr/share/simplesamlphp/www',
    '<Directory /usr/share/simplesamlphp/www/>', '  Require all granted', '</Directory>',
    '',
  ].join('\n'));

  // libldap reads its TLS settings from the environment: trust the DC's CA (its certificate names the DC, not the
  // address), from a copy Apache's www-data workers can read (the DC's own directory is root's alone)
  const ldapCa = join(dir, 'ldap-ca.pem');
  writeFileSync(ldapCa, readFileSync(o.ldap.caFile), { mode: 0o644 });
  const child: ChildProcess = spawn('/usr/sbin/apache2', ['-f', join(dir, 'apache.conf'), '-DFOREGROUND'], {
    stdio: ['ignore', 'ignore', 'pipe'], detached: true,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LDAPTLS_CACERT: ldapCa, LDAPTLS_REQCERT: 'allow', APACHE_LOG_DIR: join(dir, 'log') },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const done = new Promise((r) => child.once('exit', r));
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
      const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (exited) {
      await stop();
      throw new Error(`Apache with SimpleSAMLphp did not start: ${stderr}`);
    }
    if (await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: o.ip, port: o.port }, () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    })) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url, entityId, ssoUrl: `${url}/simplesaml/saml2/idp/SSOService.php`,
    signingCertificate: readFileSync(join(dir, 'cert', 'idp.crt'), 'utf8'),
    tlsCertificate: readFileSync(join(dir, 'tls.crt'), 'utf8'),
    stop,
  };
}
