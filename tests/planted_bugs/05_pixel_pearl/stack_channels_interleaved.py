# planted bug: groups the channels by colour instead of by frame
# cell: stack_frames
# loses: test_stack_frames
# message: interleaved by colour
def stack_frames(frames, k):
    """(T, H, W, 3) frames of one episode -> (T, 3k, H, W) stacks o_t = [x_{t-k+1}, ..., x_t], first frame repeated."""
    T = len(frames)
    index = np.clip(np.arange(T)[:, None] + np.arange(-k + 1, 1)[None, :], 0, T - 1)
    stacks = frames[index]                                            # (T, k, H, W, 3)
    return np.transpose(stacks, (0, 4, 1, 2, 3)).reshape(T, 3 * k, *frames.shape[1:3])
