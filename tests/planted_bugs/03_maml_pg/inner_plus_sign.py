# planted bug: steps up the loss instead of down
# cell: inner_step
# loses: test_inner_step
# message: you added the gradient
def inner_step(params, loss, step_size, first_order=False):
    grads = torch.autograd.grad(loss, list(params.values()), create_graph=not first_order)
    return {name: p + step_size * g for (name, p), g in zip(params.items(), grads)}
