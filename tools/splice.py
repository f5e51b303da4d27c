#!/usr/bin/env python3
"""Development aid: splices parts/NAME.h into obs.h between its part markers (idempotent)."""
import re, sys
name = sys.argv[1]
src = open(f"parts/{name}.h").read().replace('#include "base.h"\n', '', 1).rstrip() + "\n"
h = open("obs.h").read()
begin, end = f"/* >>part:{name} begin */\n", f"/* >>part:{name} end */\n"
if begin in h:
    a = h.index(begin) + len(begin); b = h.index(end)
    h = h[:a] + src + h[b:]
else:
    h = h.replace(f"/* >>part:{name} */\n", begin + src + end, 1)
open("obs.h", "w").write(h)
