/* tests/o2_compile.c -- the implementation compiles warning-free with optimisation on, where
   gcc's flow analysis (maybe-uninitialized, stringop) sees more than at -O1. */
#define OBS_IMPLEMENTATION
#include "../obs.h"
int main(void) { return obs_init(NULL) == OBS_OK ? (obs_shutdown(), 0) : 1; }
