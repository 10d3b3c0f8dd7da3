"""Log template mining: turn messages into templates (``<*>`` for values) and back.

``TemplateMiner()`` (or ``TemplateMiner.load(path)``) learns online: ``add(message)``
returns a cluster id that stays valid for the miner's life, ``template(cid).text``
reads like ``Failed password for <*> from <*>``, ``params(message, cid)`` gives
the values, and ``save(path)`` keeps the templates for the next run.
"""

from __future__ import annotations

from casework.mining.miner import Template, TemplateMiner, template_id

__all__ = ["Template", "TemplateMiner", "template_id"]
