"""Times the Python compliance tracker's own store_feed_retrievals on the benchmark's request bodies.

usage: python3 store_feed_retrievals.py CHECKOUT DATABASE BODIES
  CHECKOUT  a checkout of pmmendoza/bsky-compliance-tracker (its compliance_tracker package is imported from there)
  DATABASE  a new SQLite file; the tool creates its schema with its own ensure_database and connects as its CLI does
  BODIES    one POST /feed-retrievals body per line; each body's retrievals are one store_feed_retrievals call (one commit)
Prints "post_rows=N seconds=S cpu_seconds=C" (C: processor time of the storing, this process).
"""
import json
import sqlite3
import sys
import time

checkout, database, bodies_path = sys.argv[1:4]
sys.path.insert(0, checkout)
from compliance_tracker.database import store_feed_retrievals  # noqa: E402
from compliance_tracker.schema import ensure_database  # noqa: E402

with open(bodies_path, encoding="utf-8") as lines:
    bodies = [json.loads(line)["retrievals"] for line in lines]

connection = sqlite3.connect(database)
ensure_database(connection)
post_rows = 0
started = time.perf_counter()
processor = time.process_time()
for retrievals in bodies:
    store_feed_retrievals(connection, retrievals)
    post_rows += sum(len(retrieval["posts"]) for retrieval in retrievals)
elapsed = time.perf_counter() - started
used = time.process_time() - processor
connection.close()
print(f"post_rows={post_rows} seconds={elapsed:.3f} cpu_seconds={used:.3f}")
