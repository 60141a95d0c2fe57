"""streams: the faust-streaming router and its ledger.

    veiviser worker router           # a worker; several share the partitions of the group
    from streams import bootstrap    # wire settings, topics, office table, ledger and router (starts nothing)

The agent stages (streams.stages) and the case fold (streams.cases) are pure; the ledger (streams.ledger)
is the only module with SQL. Names are imported lazily so `import streams.errors` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "bootstrap", "run_worker", "StreamSettings", "load_stream_settings",
    "Ledger", "Incoming", "Decided", "DecisionRow", "Recorded",
    "RouterAgent", "Message", "decider", "OfficeStatusTable",
    "CaseState", "fold", "Stages", "handle", "dead_letter", "Outcome",
    "StreamError", "TransientError", "SettingsProblem",
]

_HOME = {
    "bootstrap": "app", "run_worker": "app", "StreamSettings": "app", "load_stream_settings": "app",
    "Ledger": "ledger", "Incoming": "ledger", "Decided": "ledger", "DecisionRow": "ledger", "Recorded": "ledger",
    "RouterAgent": "router", "Message": "router", "decider": "router", "OfficeStatusTable": "offices",
    "CaseState": "cases", "fold": "cases", "Stages": "stages", "handle": "stages", "dead_letter": "stages",
    "Outcome": "stages", "StreamError": "errors", "TransientError": "errors", "SettingsProblem": "errors",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'streams' has no attribute {name!r}; public names: {', '.join(__all__)}")
    return getattr(importlib.import_module(f"streams.{_HOME[name]}"), name)
