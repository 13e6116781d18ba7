# planted bug: returns the residual r = b - Hx instead of the solution x
# cell: conjugate_gradient
# loses: test_conjugate_gradient
# message: that is the residual
def conjugate_gradient(hvp, b, iters):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
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
    return r
