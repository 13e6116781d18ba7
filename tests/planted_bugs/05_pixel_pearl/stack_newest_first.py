# planted bug: puts the newest frame first in the stack
# cell: stack_frames
# loses: test_stack_frames
# message: newest frame comes first
def stack_frames(frames, k):
    """(T, H, W, 3) frames of one episode -> (T, 3k, H, W) stacks o_t = [x_{t-k+1}, ..., x_t], first frame repeated."""
    T = len(frames)
    channels_first = np.transpose(frames, (0, 3, 1, 2))
    index = np.clip(np.arange(T)[:, None] - np.arange(k)[None, :], 0, T - 1)
    return channels_first[index].reshape(T, 3 * k, *frames.shape[1:3])
