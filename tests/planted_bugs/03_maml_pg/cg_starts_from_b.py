# planted bug: starts from x = b while keeping the residual of x = 0
# cell: conjugate_gradient
# loses: test_conjugate_gradient
# message: start from x = 0
def conjugate_gradient(hvp, b, iters):
    x, r, p = b.clone(), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        if rr < 1e-10:
            break
        hp = hvp(p)
        alpha = rr / (p @ hp)
        x = x + alpha * p
        r = r - alpha * hp
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x
