# planted bug: the max over arms is taken after seeing the outcome (an expectation of a max)
# cell: bayes_value
# loses: test_bayes_value
# message: too high
def bayes_value(n):
    @lru_cache(maxsize=None)
    def value(s1, f1, s2, f2, left):
        if left == 0:
            return 0.0
        p1 = (s1 + 1) / (s1 + f1 + 2)
        p2 = (s2 + 1) / (s2 + f2 + 2)
        win = max(p1 * (1 + value(s1 + 1, f1, s2, f2, left - 1)), p2 * (1 + value(s1, f1, s2 + 1, f2, left - 1)))
        loss = max((1 - p1) * value(s1, f1 + 1, s2, f2, left - 1), (1 - p2) * value(s1, f1, s2, f2 + 1, left - 1))
        return win + loss
    return value(0, 0, 0, 0, n)
