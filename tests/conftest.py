"Shared test settings."
import os
import adv_kt   # first: the portable kernel paths are set before anything loads torch or numpy (adv_kt.core)
# No thread pin: every training and measurement runs on adv_kt.core.job_threads() (1 unless ADV_KT_THREADS says
# otherwise), so two runs of the same work compare bit for bit whatever the load. A pin inherited from the
# environment would hide a job that escaped the rule; tests/test_determinism.py checks the default itself.
os.environ.pop('ADV_KT_THREADS', None)
