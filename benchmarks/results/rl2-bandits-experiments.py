"""One RL² experiment of benchmarks/README.md, on bandits (an optional n = 10 warm start, then
training at n and evaluation) or, with --env mdp, on random tabular MDPs (trials of n episodes);
appends one JSON line to /tmp/rl2/results.jsonl (the lines of the README runs are in
rl2-bandits-experiments.jsonl next to this file)."""
import argparse, json, time
import torch
torch.set_num_threads(1)
from pathlib import Path
from metarl_course.rl2 import RL2Config, train_rl2_bandits, evaluate_rl2_bandits, train_rl2_mdps, evaluate_rl2_mdps, RL2Policy

ap = argparse.ArgumentParser()
ap.add_argument("--k", type=int, default=5); ap.add_argument("--n", type=int, default=100)
ap.add_argument("--hidden", type=int, default=256); ap.add_argument("--trials", type=int, default=256)
ap.add_argument("--updates", type=int, default=100); ap.add_argument("--lr", type=float, default=3e-3)
ap.add_argument("--lam", type=float, default=0.3); ap.add_argument("--gamma", type=float, default=0.99)
ap.add_argument("--ent", type=float, default=0.01); ap.add_argument("--epochs", type=int, default=8)
ap.add_argument("--mb", type=int, default=4); ap.add_argument("--vcoef", type=float, default=0.5)
ap.add_argument("--warm", type=int, default=0, help="n=10 updates to warm start with (0 = none)")
ap.add_argument("--warm_lr", type=float, default=3e-3)
ap.add_argument("--rscale", type=float, default=1.0)
ap.add_argument("--eval", type=int, default=2000); ap.add_argument("--tag", default="")
ap.add_argument("--env", choices=("bandit", "mdp"), default="bandit")
a = ap.parse_args()
if a.env == "mdp":  # the MDP's trial length is in episodes, and it has no warm start here
    assert not a.warm
    train_rl2_bandits = lambda k, n, cfg, seed: train_rl2_mdps(n, cfg, seed)
    evaluate_rl2_bandits = lambda policy, k, n, n_trials, seed: evaluate_rl2_mdps(policy, n, n_trials, seed)
Path("/tmp/rl2").mkdir(exist_ok=True)
t0 = time.perf_counter()
warm = None
if a.warm:
    wc = RL2Config(hidden_size=a.hidden, trials_per_update=a.trials, updates=a.warm, lr=a.warm_lr)
    path = Path(f"/tmp/rl2/warm_k{a.k}_h{a.hidden}_t{a.trials}_u{a.warm}_lr{a.warm_lr}.pt")
    warm = RL2Policy(1 + a.k + 2, a.k, a.hidden)
    if path.exists():
        warm.load_state_dict(torch.load(path)); print("loaded warm", path)
    else:
        warm, wh = train_rl2_bandits(a.k, 10, wc, seed=0)
        torch.save(warm.state_dict(), path)
        print(f"warm n=10 trained in {time.perf_counter()-t0:.0f}s, last10 {sum(wh.mean_total_reward[-10:])/10:.2f}", flush=True)
        w10 = evaluate_rl2_bandits(warm, a.k, 10, a.eval, seed=0).mean()
        print(f"warm n=10 eval {w10:.3f}", flush=True)
    w = evaluate_rl2_bandits(warm, a.k, a.n, a.eval, seed=0)
    print(f"warm policy at n={a.n} before training: {w.mean():.2f}", flush=True)
t1 = time.perf_counter()
cfg = RL2Config(hidden_size=a.hidden, trials_per_update=a.trials, updates=a.updates, lr=a.lr, gamma=a.gamma,
                gae_lambda=a.lam, entropy_coef=a.ent, epochs=a.epochs, minibatches=a.mb, value_coef=a.vcoef, reward_scale=a.rscale)
policy, hist = train_rl2_bandits(a.k, a.n, cfg, seed=0, **({"warm_start": warm} if warm is not None else {}))
t2 = time.perf_counter()
c = hist.mean_total_reward
print("curve(every 10):", [round(sum(c[i:i+10])/len(c[i:i+10]), 1) for i in range(0, len(c), 10)], flush=True)
tot = evaluate_rl2_bandits(policy, a.k, a.n, a.eval, seed=0)
se = tot.std(ddof=1) / len(tot) ** 0.5
res = dict(vars(a), eval_mean=float(tot.mean()), eval_se=float(se), train_s=round(t2 - t1, 1), total_s=round(time.perf_counter() - t0, 1))
print("RESULT", json.dumps(res), flush=True)
Path("/tmp/rl2").mkdir(exist_ok=True)
with open("/tmp/rl2/results.jsonl", "a") as f: f.write(json.dumps(res) + "\n")
