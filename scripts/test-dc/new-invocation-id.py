#!/usr/bin/python3
"""Test DC setup (not a product path): gives a stopped copy of a DC a new
database identity (invocationId), as a replica or a DC restored from backup
has. A USN watermark taken on the original is then worthless on the copy,
which is what the connector must notice.

usage: new-invocation-id.py SMB_CONF SAM_LDB
"""
import sys
import uuid

import ldb
from samba.auth import system_session
from samba.dcerpc import misc
from samba.ndr import ndr_pack
from samba.param import LoadParm
from samba.samdb import SamDB

conf, url = sys.argv[1:3]
lp = LoadParm()
lp.load(conf)
db = SamDB(url=url, session_info=system_session(), lp=lp)
m = ldb.Message()
m.dn = ldb.Dn(db, str(db.get_dsServiceName()))
m["invocationId"] = ldb.MessageElement(ndr_pack(misc.GUID(str(uuid.uuid4()))), ldb.FLAG_MOD_REPLACE, "invocationId")
db.modify(m, controls=["relax:0", "provision:0"])
print(SamDB(url=url, session_info=system_session(), lp=lp).get_invocation_id())
