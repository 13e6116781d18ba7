# planted bug: detaches the adapted parameters, cutting the meta-gradient off from θ
# cell: inner_step
# loses: test_inner_step
# message: no gradient flows from θ' back to θ
def inner_step(params, loss, step_size, first_order=False):
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
    return {name: (p - step_size * g).detach() for (name, p), g in zip(params.items(), grads)}
