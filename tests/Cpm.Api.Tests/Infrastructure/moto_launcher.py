"""moto's DynamoDB for the tests and the benchmark: requests serialised, and transactions and queries
costing what they touch. Run as `python3 moto_launcher.py -H 127.0.0.1 -p PORT`; exits when its standard
input closes."""
import logging

# werkzeug would log every request: CPU taken from moto, the bottleneck, and a log that grows by megabytes.
logging.getLogger('werkzeug').setLevel(logging.WARNING)

import copy, os, sys, threading
from moto import server
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

lock = threading.Lock()
dispatch = DomainDispatcherApplication.__call__

def serialised(self, environ, start_response):
    with lock:
        return dispatch(self, environ, start_response)

DomainDispatcherApplication.__call__ = serialised

# moto deep-copies every table before each transaction (to roll a cancelled one back) and
# sorts the whole table for every query, so both slow down as a table grows (seconds per
# transaction, a second per index query at 20,000 rows). Same answers, at the cost of what a
# call touches: a transaction backs up only the rows it writes, and a query hands moto only
# the rows its key condition matches (moto checks and sorts them itself). Requests are
# serialised above, so the state kept between the calls below is never shared.
class KeepTables:
    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

transact = dynamodb_models.DynamoDBBackend.transact_write_items

def transact_write_items(self, transact_items):
    saved = []
    for entry in transact_items:
        op = next(iter(entry.values()))
        table = self.tables.get(op.get("TableName"))
        key = op.get("Item") or op.get("Key") or {}
        if table is not None and table.hash_key_attr in key and table.range_key_attr in key:
            hash_key, range_key = DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr])
            saved.append((table, hash_key, range_key, copy.deepcopy(table.items.get(hash_key, {}).get(range_key))))
    dynamodb_models.copy = KeepTables
    try:
        return transact(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(saved):
            if item is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        raise
    finally:
        dynamodb_models.copy = copy

dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items

query, all_items = Table.query, Table.all_items
querying = []

def narrowed_query(self, hash_key, range_comparison, range_objs, limit, start_key, forward, projection, index_name=None, *args, **kwargs):
    querying.append((self, hash_key, index_name, range_comparison, range_objs))
    try:
        return query(self, hash_key, range_comparison, range_objs, limit, start_key, forward, projection, index_name, *args, **kwargs)
    finally:
        querying.pop()

def queried_items(self):
    if not querying or querying[-1][0] is not self or not self.range_key_attr or querying[-1][1] is None:
        return all_items(self)
    _, hash_key, index_name, range_comparison, range_objs = querying[-1]
    if index_name is None:
        return [item for item in self.items.get(hash_key, {}).values() if not range_comparison or item.range_key.compare(range_comparison, range_objs)]
    keys = {key["KeyType"]: key["AttributeName"] for key in self.get_index(index_name).schema}
    return [
        item
        for partition in self.items.values()
        for item in partition.values()
        if (value := item.attrs.get(keys["HASH"])) is not None and value.type == hash_key.type and value.value == hash_key.value
        and (not range_comparison or ((bound := item.attrs.get(keys.get("RANGE"))) is not None and bound.compare(range_comparison, range_objs)))
    ]

Table.query, Table.all_items = narrowed_query, queried_items

def exit_with_parent():
    sys.stdin.read()
    os._exit(0)

threading.Thread(target=exit_with_parent, daemon=True).start()
server.main(sys.argv[1:])
