# planted bug: negative indices wrap around to the end of the episode
# cell: stack_frames
# loses: test_stack_frames
# message: wraps around to the end of the episode
def stack_frames(frames, k):
    """(T, H, W, 3) frames of one episode -> (T, 3k, H, W) stacks o_t = [x_{t-k+1}, ..., x_t], first frame repeated."""
    T = len(frames)
    channels_first = np.transpose(frames, (0, 3, 1, 2))
    index = np.arange(T)[:, None] + np.arange(-k + 1, 1)[None, :]     # -1 is the last frame
    return channels_first[index].reshape(T, 3 * k, *frames.shape[1:3])
