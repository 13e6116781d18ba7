"""metarl-course: a meta-reinforcement-learning course kit.

The notebooks import from this package: environments with task distributions
(``metarl_course.envs``), the evaluation protocol (``evaluation``), reference
implementations of each algorithm, and the graded checks (``checks``).
"""

import os
import sys

# MuJoCo renders off-screen through EGL when there is no display (GPU, or Mesa on a CPU).
if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("MUJOCO_GL", "egl")

# torch's CPU threads busy-wait between operations by default. When anything else runs on
# the machine (a second kernel, a grader running several notebooks) the spinning threads
# fight over the cores and small networks train 10-40 times slower. Passive waiting costs
# little when the machine is idle. It only takes effect if set before torch is imported, so
# notebooks import metarl_course first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from metarl_course.session import start_unit  # noqa: E402

__version__ = "0.1.0"
__all__ = ["start_unit", "__version__"]
