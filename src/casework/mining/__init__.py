"""Log template mining: turn messages into templates (``<*>`` for values) and back.

    miner = TemplateMiner()                # or TemplateMiner.load(path)
    cid = miner.add(message)               # learn + match; the id stays valid
    miner.template(cid).text               # 'Failed password for <*> from <*>'
    miner.params(message, cid)             # ['root', '10.0.0.1']
    miner.save(path)
"""

from __future__ import annotations

from casework.mining.miner import Template, TemplateMiner, template_id

__all__ = ["Template", "TemplateMiner", "template_id"]
