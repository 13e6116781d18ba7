# planted bug: takes a full gradient step, ignoring the step size
# cell: inner_step
# loses: test_inner_step
# message: step size is missing
def inner_step(params, loss, step_size, first_order=False):
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
    return {name: p - g for (name, p), g in zip(params.items(), grads)}
