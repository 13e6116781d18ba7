# planted bug: pads the stacks before the episode's start with black frames
# cell: stack_frames
# loses: test_stack_frames
# message: frames before the episode's start are zeros
def stack_frames(frames, k):
    """(T, H, W, 3) frames of one episode -> (T, 3k, H, W) stacks o_t = [x_{t-k+1}, ..., x_t], first frame repeated."""
    T = len(frames)
    channels_first = np.transpose(frames, (0, 3, 1, 2))
    padded = np.concatenate([np.zeros((k - 1, *channels_first.shape[1:]), dtype=frames.dtype), channels_first])
    return np.stack([padded[t:t + k].reshape(3 * k, *frames.shape[1:3]) for t in range(T)])
