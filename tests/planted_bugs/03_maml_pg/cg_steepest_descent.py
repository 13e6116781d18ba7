# planted bug: β = 0, i.e. steepest descent, which does not solve the system in n steps
# cell: conjugate_gradient
# loses: test_conjugate_gradient
# message: steepest descent
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
        p = r.clone()
        rr = r @ r
    return x
