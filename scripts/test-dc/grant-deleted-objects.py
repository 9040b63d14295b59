#!/usr/bin/python3
"""Test DC setup (not a product path): lets an account list and read the
Deleted Objects container, as Microsoft documents with
`dsacls "CN=Deleted Objects,DC=…" /G DOMAIN\\account:LCRP`. samba-tool dsacl
cannot address that container (it needs the Show Deleted control).

usage: grant-deleted-objects.py SMB_CONF SAM_LDB BASE_DN SID
"""
import re
import sys

from samba.auth import system_session
from samba.dcerpc import security
from samba.param import LoadParm
from samba.samdb import SamDB
from samba.sd_utils import SDUtils

conf, url, base_dn, sid = sys.argv[1:5]
lp = LoadParm()
lp.load(conf)
db = SamDB(url=url, session_info=system_session(), lp=lp)
utils = SDUtils(db)
dn = "CN=Deleted Objects," + base_dn
controls = ["show_deleted:1", "sd_flags:1:4"]
desc = utils.read_sd_on_dn(dn, controls=controls)
domain_sid = security.dom_sid(db.get_domain_sid())
sddl = desc.as_sddl(domain_sid)
ace = "(A;;LCRP;;;%s)" % sid
if ace not in sddl:
    # Insert the ACE at the start of the DACL, after its flags.
    m = re.search(r"D:[A-Z]*", sddl)
    sddl = sddl[: m.end()] + ace + sddl[m.end():]
    utils.modify_sd_on_dn(dn, security.descriptor.from_sddl(sddl, domain_sid), controls=controls)
print(utils.read_sd_on_dn(dn, controls=controls).as_sddl(domain_sid))
