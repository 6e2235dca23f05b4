# The stages under src/, in the order data flows through them, each with the stages it uses
# directly: its CMake link line names exactly these, and its sources include headers of these,
# of the stages they use in turn, and of its own only (cmake/CheckStageIncludes.cmake, the
# ctest entry lint.stage-includes). ARCHITECTURE.md describes the same order.
set(KSX_STAGES util contract trust fetch manifest plan container build image sign pack publish
               ignition cli activator)
set(KSX_STAGE_USES_util "")
set(KSX_STAGE_USES_contract util)
set(KSX_STAGE_USES_trust util)
set(KSX_STAGE_USES_fetch util)
set(KSX_STAGE_USES_manifest contract util)
set(KSX_STAGE_USES_plan manifest util)
set(KSX_STAGE_USES_container contract fetch manifest util)
set(KSX_STAGE_USES_build container contract fetch manifest util)
set(KSX_STAGE_USES_image util)
set(KSX_STAGE_USES_sign contract trust util)
set(KSX_STAGE_USES_pack build container contract image manifest plan sign util)
set(KSX_STAGE_USES_publish contract image sign util)
set(KSX_STAGE_USES_ignition contract manifest util)
set(KSX_STAGE_USES_cli container contract ignition image manifest pack plan publish sign util)
set(KSX_STAGE_USES_activator contract trust util)
