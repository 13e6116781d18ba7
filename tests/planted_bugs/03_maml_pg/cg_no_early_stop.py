# planted bug: keeps iterating after the residual reached 0, dividing 0 by 0
# cell: conjugate_gradient
# loses: test_conjugate_gradient
# message: stop early when the residual vanishes
def conjugate_gradient(hvp, b, iters):
    x, r, p = torch.zeros_like(b), b.clone(), b.clone()
    rr = r @ r
    for _ in range(iters):
        hp = hvp(p)
        alpha = rr / (p @ hp)
        x = x + alpha * p
        r = r - alpha * hp
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x
