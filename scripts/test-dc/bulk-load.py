#!/usr/bin/python3
"""Test DC template building (not a product path): loads an LDIF file of
additions and modifications into a DC's sam.ldb through Samba's own ldb
modules, in transactions of PER records, with ldb's batch mode.

Why: each add over LDAP is its own transaction, and Samba copies the index
lists every user is in (objectClass, objectCategory, the parent's one-level
index…) at each one, so adds slow down linearly with the directory size
(about 40 users/s at 15,000 users on a 2-core machine). In batch mode ldb
updates those lists in place within the transaction: about 350 users/s,
flat. The price: a failed record leaves the transaction's indexes
unusable, so any failure cancels the whole transaction (and the template
is not built).

usage: bulk-load.py SMB_CONF SAM_LDB LDIF_FILE PER_TRANSACTION
Prints the number of records applied after each transaction.
"""
import sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

conf, url, path, per = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lp = LoadParm()
lp.load(conf)
db = SamDB(url=url, session_info=system_session(), lp=lp, options=["batch_mode:1"])


def records(f):
    """LDIF records (separated by blank lines), without holding the file."""
    lines = []
    for line in f:
        if line.strip() == "":
            if lines:
                yield "".join(lines)
                lines = []
        else:
            lines.append(line)
    if lines:
        yield "".join(lines)


def apply(chunk):
    db.transaction_start()
    try:
        for changetype, msg in db.parse_ldif("\n".join(chunk)):
            try:
                if changetype == ldb.CHANGETYPE_MODIFY:
                    db.modify(msg)
                else:
                    db.add(msg)
            except ldb.LdbError as e:
                raise SystemExit("bulk-load: %s: %s" % (msg.dn, e.args[1] if len(e.args) > 1 else e))
    except BaseException:
        db.transaction_cancel()
        raise
    db.transaction_commit()


done = 0
chunk = []
with open(path, encoding="utf-8") as f:
    for record in records(f):
        chunk.append(record)
        if len(chunk) >= per:
            apply(chunk)
            done += len(chunk)
            chunk = []
            print(done, flush=True)
if chunk:
    apply(chunk)
    done += len(chunk)
    print(done, flush=True)
