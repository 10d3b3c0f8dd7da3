"""Which workload a pod belongs to, from its name: the pods of one Deployment are one story.

``inventory-7d9f8c6b5-x2kqp`` is a Deployment's pod (ReplicaSet hash, then the
pod's own suffix), ``node-agent-x2kqp`` a DaemonSet's or a Job's; a name without
such suffixes (a StatefulSet's ``db-0``, a bare pod) is its own workload.
"""

from __future__ import annotations

import re

_POD_SUFFIX = re.compile(r"^(?P<name>.+?)(?:-[a-z0-9]{6,10})?-[a-z0-9]{5}$")


def workload(obj: str) -> str:
    """The workload of ``Pod/<name>`` (or ``<name>``); any other object is itself."""
    if "/" in obj and not obj.startswith("Pod/"):
        return obj
    pod = obj.removeprefix("Pod/")
    m = _POD_SUFFIX.match(pod)
    return m.group("name") if m else pod
