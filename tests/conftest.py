"Shared test settings."
import os
# Tests that compare two computations (fault recovery, Ray vs sequential) need the same thread count in both:
# pin it to the default torch would choose, instead of the free cores measured before each job (adv_kt.core).
os.environ.setdefault('ADV_KT_THREADS', str(len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
                                         else os.cpu_count() or 1))
