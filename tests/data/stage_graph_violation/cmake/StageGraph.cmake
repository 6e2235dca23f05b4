# A stage graph broken on purpose (lint.stage-includes-detects): stage a includes a header of b,
# which comes after it.
set(KSX_STAGES a b)
set(KSX_STAGE_USES_a "")
set(KSX_STAGE_USES_b a)
