# planted bug: the posterior mean forgets the prior's pseudo-counts: (s + 1) / (s + f + 1)
# cell: bayes_value
# loses: test_bayes_value
# message: bayes_value\(1\) is wrong
def bayes_value(n):
    @lru_cache(maxsize=None)
    def value(s1, f1, s2, f2, left):
        if left == 0:
            return 0.0
        p1 = (s1 + 1) / (s1 + f1 + 1)
        p2 = (s2 + 1) / (s2 + f2 + 1)
        q1 = p1 * (1 + value(s1 + 1, f1, s2, f2, left - 1)) + (1 - p1) * value(s1, f1 + 1, s2, f2, left - 1)
        q2 = p2 * (1 + value(s1, f1, s2 + 1, f2, left - 1)) + (1 - p2) * value(s1, f1, s2, f2 + 1, left - 1)
        return max(q1, q2)
    return value(0, 0, 0, 0, n)
