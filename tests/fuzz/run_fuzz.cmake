# One fuzz target as a CTest test (cmake -P). MODE=fuzz: RUNS inputs, mutating the committed
# corpus (read-only: new inputs go to WORK, emptied first), with a fixed seed, so a run is
# repeatable; crash artifacts go to WORK. MODE=seeds: the committed ok-* seeds must all parse.
if(MODE STREQUAL "seeds")
  file(GLOB seeds "${CORPUS}/ok-*")
  if(NOT seeds)
    message(FATAL_ERROR "no ok-* seeds in ${CORPUS}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env ATREST_FUZZ_EXPECT_OK=1 ${TARGET} ${seeds} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "a committed seed in ${CORPUS} no longer parses (exit ${rc}); if the format changed on "
                        "purpose, regenerate the binary seeds with ./scripts/dev fuzz-corpus")
  endif()
else()
  file(REMOVE_RECURSE "${WORK}")
  file(MAKE_DIRECTORY "${WORK}")
  execute_process(COMMAND ${TARGET} -runs=${RUNS} -seed=1 -timeout=25 -print_final_stats=1 -artifact_prefix=${WORK}/
                          ${WORK} ${CORPUS}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET} failed (exit ${rc}); the crashing input is in ${WORK}/ (crash-*, leak-*, ...)")
  endif()
endif()
