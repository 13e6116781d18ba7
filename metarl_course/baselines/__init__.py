"""Non-learned baselines: what a meta-learned agent is compared with (RL² Tables 1 and 2).

- ``bandits``: Bernoulli-bandit strategies on Beta posterior counts (random, greedy,
  ε-greedy, UCB1, Thompson sampling, optimistic Thompson sampling, Gittins index) and the
  exact Bayes-optimal value and policy by dynamic programming.
- ``tabular_mdp``: value iteration (the known-MDP oracle) and model-based agents on the
  conjugate posterior of a tabular MDP (random, greedy, ε-greedy, PSRL, optimistic PSRL,
  BEB, UCRL2).
"""

from metarl_course.baselines.bandits import (
    argmax_random_ties,
    bandit_table,
    bayes_optimal_strategy,
    bayes_optimal_value,
    count_posterior_states,
    epsilon_greedy,
    gittins,
    gittins_index_table,
    greedy,
    optimistic_thompson,
    play_bandit_strategy,
    random_arm,
    run_bandit_strategy,
    thompson,
    thompson_most_probable,
    ucb1,
)
from metarl_course.baselines.tabular_mdp import (
    TabularPosterior,
    finite_horizon_q,
    mdp_table,
    optimal_episode_return,
    plan_beb,
    plan_greedy,
    plan_opsrl,
    plan_psrl,
    plan_random,
    plan_ucrl2,
    policy_episode_return,
    run_mdp_agent,
)

__all__ = [
    "TabularPosterior",
    "argmax_random_ties",
    "bandit_table",
    "bayes_optimal_strategy",
    "bayes_optimal_value",
    "count_posterior_states",
    "epsilon_greedy",
    "finite_horizon_q",
    "gittins",
    "gittins_index_table",
    "greedy",
    "mdp_table",
    "optimal_episode_return",
    "optimistic_thompson",
    "plan_beb",
    "plan_greedy",
    "plan_opsrl",
    "plan_psrl",
    "plan_random",
    "plan_ucrl2",
    "play_bandit_strategy",
    "policy_episode_return",
    "random_arm",
    "run_bandit_strategy",
    "run_mdp_agent",
    "thompson",
    "thompson_most_probable",
    "ucb1",
]
