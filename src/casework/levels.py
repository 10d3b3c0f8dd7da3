"""The level names that mean a record failed or warned, as every reader of ``level`` spells them.

Compared in lower case. ``ERROR_SQL`` is the same list as SQL, for ``lower(level) IN …``.
"""

from __future__ import annotations

ERROR_LEVELS = ("error", "err", "fatal", "critical", "crit", "severe", "alert", "emerg", "panic")
WARN_LEVELS = ("warn", "warning")
ERROR_SQL = "(" + ", ".join(f"'{lv}'" for lv in ERROR_LEVELS) + ")"
