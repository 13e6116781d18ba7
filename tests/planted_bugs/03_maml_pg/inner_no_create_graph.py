# planted bug: never builds the graph of the inner gradient, so "second-order" MAML is silently first order
# cell: inner_step
# loses: test_inner_step
# message: second-order term is lost
def inner_step(params, loss, step_size, first_order=False):
    grads = torch.autograd.grad(loss, list(params.values()))
    return {name: p - step_size * g for (name, p), g in zip(params.items(), grads)}
