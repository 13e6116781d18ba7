# planted bug: concatenates the frames along the colour axis but keeps channels last
# cell: stack_frames
# loses: test_stack_frames
# message: channels first
def stack_frames(frames, k):
    """(T, H, W, 3) frames of one episode -> (T, 3k, H, W) stacks o_t = [x_{t-k+1}, ..., x_t], first frame repeated."""
    T = len(frames)
    index = np.clip(np.arange(T)[:, None] + np.arange(-k + 1, 1)[None, :], 0, T - 1)
    return np.concatenate([frames[index[:, j]] for j in range(k)], axis=-1)
