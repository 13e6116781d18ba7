# planted bug: Beta(1 + f, 1 + s): successes and failures swapped, so the worst-looking arm is favoured
# cell: thompson
# loses: test_thompson
# message: sample θ_a ~ Beta\(1 \+ s_a, 1 \+ f_a\)
def thompson(successes, failures, rng):
    return argmax_random_ties(rng.beta(failures + 1.0, successes + 1.0), rng)
