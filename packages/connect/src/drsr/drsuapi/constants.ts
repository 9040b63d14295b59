/**
 * The drsuapi interface of MS-DRSR: its identity, the opnums this agent
 * calls, and the flag and code values of MS-DRSR that its messages carry.
 * Values are those of the specification (sections cited per group); the
 * tests check them against impacket's and Samba's definitions.
 */

/** The drsuapi RPC interface (MS-DRSR 2.1, 4.1): uuid and version 4.0. */
export const DRSUAPI_INTERFACE_UUID = 'e3514235-4b06-11d1-ab04-00c04fc2dcd2';
export const DRSUAPI_INTERFACE_VERSION = { major: 4, minor: 0 } as const;

/** NDR 2.0, the transfer syntax the stubs here are encoded in (C706 14, MS-RPCE 2.2.5). */
export const NDR_TRANSFER_SYNTAX_UUID = '8a885d04-1ceb-11c9-9fe8-08002b104860';
export const NDR_TRANSFER_SYNTAX_VERSION = 2;

/** Opnums (MS-DRSR 4.1). */
export const OPNUM_DRS_BIND = 0;
export const OPNUM_DRS_UNBIND = 1;
export const OPNUM_DRS_GET_NC_CHANGES = 3;
export const OPNUM_DRS_CRACK_NAMES = 12;

/** NTDSAPI_CLIENT_GUID (MS-DRSR section 5, "NTDSAPI_CLIENT_GUID"), the puuidClientDsa of a non-DC client. */
export const NTDSAPI_CLIENT_GUID = 'e24d201a-4fd6-11d1-a3da-0000f875ae0d';

// DRS_EXTENSIONS_INT.dwFlags (MS-DRSR 5.39)
export const DRS_EXT_BASE = 0x00000001;
export const DRS_EXT_ASYNCREPL = 0x00000002;
export const DRS_EXT_REMOVEAPI = 0x00000004;
export const DRS_EXT_MOVEREQ_V2 = 0x00000008;
export const DRS_EXT_GETCHG_DEFLATE = 0x00000010;
export const DRS_EXT_DCINFO_V1 = 0x00000020;
export const DRS_EXT_RESTORE_USN_OPTIMIZATION = 0x00000040;
export const DRS_EXT_ADDENTRY = 0x00000080;
export const DRS_EXT_KCC_EXECUTE = 0x00000100;
export const DRS_EXT_ADDENTRY_V2 = 0x00000200;
export const DRS_EXT_LINKED_VALUE_REPLICATION = 0x00000400;
export const DRS_EXT_DCINFO_V2 = 0x00000800;
export const DRS_EXT_INSTANCE_TYPE_NOT_REQ_ON_MOD = 0x00001000;
export const DRS_EXT_CRYPTO_BIND = 0x00002000;
export const DRS_EXT_GET_REPL_INFO = 0x00004000;
export const DRS_EXT_STRONG_ENCRYPTION = 0x00008000;
export const DRS_EXT_DCINFO_V01 = 0x00010000;
export const DRS_EXT_TRANSITIVE_MEMBERSHIP = 0x00020000;
export const DRS_EXT_ADD_SID_HISTORY = 0x00040000;
export const DRS_EXT_POST_BETA3 = 0x00080000;
export const DRS_EXT_GETCHGREQ_V5 = 0x00100000;
export const DRS_EXT_GETMEMBERSHIPS2 = 0x00200000;
export const DRS_EXT_GETCHGREQ_V6 = 0x00400000;
export const DRS_EXT_NONDOMAIN_NCS = 0x00800000;
export const DRS_EXT_GETCHGREQ_V8 = 0x01000000;
export const DRS_EXT_GETCHGREPLY_V5 = 0x02000000;
export const DRS_EXT_GETCHGREPLY_V6 = 0x04000000;
/** The next three share one bit (MS-DRSR 5.39). */
export const DRS_EXT_ADDENTRYREPLY_V3 = 0x08000000;
export const DRS_EXT_GETCHGREPLY_V7 = 0x08000000;
export const DRS_EXT_VERIFY_OBJECT = 0x08000000;
export const DRS_EXT_XPRESS_COMPRESS = 0x10000000;
export const DRS_EXT_GETCHGREQ_V10 = 0x20000000;
export const DRS_EXT_RESERVED_FOR_WIN2K_OR_DOTNET_PART2 = 0x40000000;
export const DRS_EXT_RESERVED_FOR_WIN2K_OR_DOTNET_PART3 = 0x80000000;

// DRS_EXTENSIONS_INT.dwFlagsExt (MS-DRSR 5.39)
export const DRS_EXT_ADAM = 0x00000001;
export const DRS_EXT_LH_BETA2 = 0x00000002;
export const DRS_EXT_RECYCLE_BIN = 0x00000004;
export const DRS_EXT_GETCHGREPLY_V9 = 0x00000100;

// DRS_OPTIONS as IDL_DRSGetNCChanges' ulFlags uses them (MS-DRSR 5.41); some bits mean other things in other calls
export const DRS_ASYNC_OP = 0x00000001;
export const DRS_GETCHG_CHECK = 0x00000002;
export const DRS_ADD_REF = 0x00000004;
export const DRS_SYNC_ALL = 0x00000008;
export const DRS_WRIT_REP = 0x00000010;
export const DRS_INIT_SYNC = 0x00000020;
export const DRS_PER_SYNC = 0x00000040;
export const DRS_MAIL_REP = 0x00000080;
export const DRS_ASYNC_REP = 0x00000100;
export const DRS_TWOWAY_SYNC = 0x00000200;
export const DRS_CRITICAL_ONLY = 0x00000400;
export const DRS_GET_ANC = 0x00000800;
export const DRS_GET_NC_SIZE = 0x00001000;
export const DRS_NONGC_RO_REP = 0x00002000;
export const DRS_SYNC_BYNAME = 0x00004000;
export const DRS_FULL_SYNC_NOW = 0x00008000;
export const DRS_FULL_SYNC_IN_PROGRESS = 0x00010000;
export const DRS_FULL_SYNC_PACKET = 0x00020000;
export const DRS_SYNC_REQUEUE = 0x00040000;
export const DRS_SYNC_URGENT = 0x00080000;
export const DRS_NO_DISCARD = 0x00100000;
export const DRS_NEVER_SYNCED = 0x00200000;
export const DRS_SPECIAL_SECRET_PROCESSING = 0x00400000;
export const DRS_INIT_SYNC_NOW = 0x00800000;
export const DRS_PREEMPTED = 0x01000000;
export const DRS_SYNC_FORCED = 0x02000000;
export const DRS_DISABLE_AUTO_SYNC = 0x04000000;
export const DRS_DISABLE_PERIODIC_SYNC = 0x08000000;
export const DRS_USE_COMPRESSION = 0x10000000;
export const DRS_NEVER_NOTIFY = 0x20000000;
export const DRS_SYNC_PAS = 0x40000000;
export const DRS_GET_ALL_GROUP_MEMBERSHIP = 0x80000000;

// EXOP_REQ codes, ulExtendedOp (MS-DRSR 4.1.10.2, "EXOP_REQ Codes")
export const EXOP_NONE = 0x00000000;
export const EXOP_FSMO_REQ_ROLE = 0x00000001;
export const EXOP_FSMO_REQ_RID_ALLOC = 0x00000002;
export const EXOP_FSMO_RID_REQ_ROLE = 0x00000003;
export const EXOP_FSMO_REQ_PDC = 0x00000004;
export const EXOP_FSMO_ABANDON_ROLE = 0x00000005;
export const EXOP_REPL_OBJ = 0x00000006;
export const EXOP_REPL_SECRET = 0x00000007;

// EXOP_ERR codes, ulExtendedRet (MS-DRSR 4.1.10.2, "EXOP_ERR Codes")
export const EXOP_ERR_NONE = 0x00000000;
export const EXOP_ERR_SUCCESS = 0x00000001;
export const EXOP_ERR_UNKNOWN_OP = 0x00000002;
export const EXOP_ERR_FSMO_NOT_OWNER = 0x00000003;
export const EXOP_ERR_UPDATE_ERR = 0x00000004;
export const EXOP_ERR_EXCEPTION = 0x00000005;
export const EXOP_ERR_UNKNOWN_CALLER = 0x00000006;
export const EXOP_ERR_RID_ALLOC = 0x00000007;
export const EXOP_ERR_FSMO_OWNER_DELETED = 0x00000008;
export const EXOP_ERR_FSMO_PENDING_OP = 0x00000009;
export const EXOP_ERR_MISMATCH = 0x0000000a;
export const EXOP_ERR_COULDNT_CONTACT = 0x0000000b;
export const EXOP_ERR_FSMO_REFUSING_ROLES = 0x0000000c;
export const EXOP_ERR_DIR_ERROR = 0x0000000d;
export const EXOP_ERR_FSMO_MISSING_SETTINGS = 0x0000000e;
export const EXOP_ERR_ACCESS_DENIED = 0x0000000f;
export const EXOP_ERR_PARAM_ERROR = 0x00000010;

// DS_NAME_FORMAT (MS-DRSR 4.1.4.1.3) and the extra formatOffered / formatDesired values (4.1.4.1.2)
export const DS_UNKNOWN_NAME = 0;
export const DS_FQDN_1779_NAME = 1;
export const DS_NT4_ACCOUNT_NAME = 2;
export const DS_DISPLAY_NAME = 3;
/** A GUID in its string form, with braces. */
export const DS_UNIQUE_ID_NAME = 6;
export const DS_CANONICAL_NAME = 7;
export const DS_USER_PRINCIPAL_NAME = 8;
export const DS_CANONICAL_NAME_EX = 9;
export const DS_SERVICE_PRINCIPAL_NAME = 10;
export const DS_SID_OR_SID_HISTORY_NAME = 11;
export const DS_DNS_DOMAIN_NAME = 12;
export const DS_LIST_SITES = 0xffffffff;
export const DS_LIST_SERVERS_IN_SITE = 0xfffffffe;
export const DS_LIST_DOMAINS_IN_SITE = 0xfffffffd;
export const DS_LIST_SERVERS_FOR_DOMAIN_IN_SITE = 0xfffffffc;
export const DS_LIST_INFO_FOR_SERVER = 0xfffffffb;
export const DS_LIST_ROLES = 0xfffffffa;
export const DS_NT4_ACCOUNT_NAME_SANS_DOMAIN = 0xfffffff9;
export const DS_MAP_SCHEMA_GUID = 0xfffffff8;
export const DS_LIST_DOMAINS = 0xfffffff7;
export const DS_LIST_NCS = 0xfffffff6;
export const DS_ALT_SECURITY_IDENTITIES_NAME = 0xfffffff5;
export const DS_STRING_SID_NAME = 0xfffffff4;
export const DS_LIST_SERVERS_WITH_DCS_IN_SITE = 0xfffffff3;
export const DS_USER_PRINCIPAL_NAME_FOR_LOGON = 0xfffffff2;
export const DS_LIST_GLOBAL_CATALOG_SERVERS = 0xfffffff1;
export const DS_NT4_ACCOUNT_NAME_SANS_DOMAIN_EX = 0xfffffff0;
export const DS_USER_PRINCIPAL_NAME_AND_ALTSECID = 0xffffffef;

// DS_NAME_FLAGS, DRS_MSG_CRACKREQ_V1.dwFlags (MS-DRSR 4.1.4.1.2)
export const DS_NAME_NO_FLAGS = 0x00000000;
export const DS_NAME_FLAG_SYNTACTICAL_ONLY = 0x00000001;
export const DS_NAME_FLAG_EVAL_AT_DC = 0x00000002;
export const DS_NAME_FLAG_GCVERIFY = 0x00000004;
export const DS_NAME_FLAG_TRUST_REFERRAL = 0x00000008;
export const DS_NAME_FLAG_PRIVATE_RESOLVE_FPOS = 0x80000000;

// DS_NAME_ERROR, DS_NAME_RESULT_ITEMW.status (MS-DRSR 4.1.4.1.4)
export const DS_NAME_NO_ERROR = 0;
export const DS_NAME_ERROR_RESOLVING = 1;
export const DS_NAME_ERROR_NOT_FOUND = 2;
export const DS_NAME_ERROR_NOT_UNIQUE = 3;
export const DS_NAME_ERROR_NO_MAPPING = 4;
export const DS_NAME_ERROR_DOMAIN_ONLY = 5;
export const DS_NAME_ERROR_NO_SYNTACTICAL_MAPPING = 6;
export const DS_NAME_ERROR_TRUST_REFERRAL = 7;

// ENTINF.ulFlags (MS-DRSR 5.53)
export const ENTINF_FROM_MASTER = 0x00000001;
export const ENTINF_DYNAMIC_OBJECT = 0x00000002;
export const ENTINF_REMOTE_MODIFY = 0x00010000;
