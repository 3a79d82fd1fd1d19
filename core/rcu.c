// SPDX-License-Identifier: GPL-2.0-only
/*
 * Under ThreadSanitizer, the clock on which quiescent states release and
 * reclamation acquires (see include/flatvm/rcu.h).
 */
#include "flatvm/rcu.h"

#ifdef FLATVM_TSAN
char rcu_tsan_clock;
#endif
