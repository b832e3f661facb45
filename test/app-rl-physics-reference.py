#!/usr/bin/env python3
"""Independent reference for test/app-rl-envs.test.ts: the pole-balancing physics written again
from the papers' equations (Barto et al. 1983 for the single pole; Wieland 1991 in the notation
of Gomez & Miikkulainen 1999, effective masses and forces, for the double pole), in Python with
numpy's vector arithmetic for the Runge-Kutta steps. Prints the states the test expects.
Rerun: python3 test/app-rl-physics-reference.py"""
import json
import math
import numpy as np


def cartpole(s, F, g=9.8, mc=1.0, m=0.1, l=0.5, tau=0.02):
    x, xd, th, thd = s
    # Barto et al. (1983), eq. for theta'' and x'' without friction
    thacc = (g * math.sin(th) + math.cos(th) * ((-F - m * l * thd ** 2 * math.sin(th)) / (mc + m))) / (
        l * (4.0 / 3.0 - m * math.cos(th) ** 2 / (mc + m)))
    xacc = (F + m * l * (thd ** 2 * math.sin(th) - thacc * math.cos(th))) / (mc + m)
    return [x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc]


def double_pole_deriv(s, F):
    g, M, mu_c, mu_p = -9.8, 1.0, 0.0005, 0.000002
    ms, ls = np.array([0.1, 0.01]), np.array([0.5, 0.05])
    th, thd = s[[2, 4]], s[[3, 5]]
    # Wieland (1991): effective force and mass of each pole on the cart
    F_eff = ms * ls * thd ** 2 * np.sin(th) + 0.75 * ms * np.cos(th) * (mu_p * thd / (ms * ls) + g * np.sin(th))
    m_eff = ms * (1 - 0.75 * np.cos(th) ** 2)
    xacc = (F - mu_c * np.sign(s[1]) + F_eff.sum()) / (M + m_eff.sum())
    thacc = -0.75 / ls * (xacc * np.cos(th) + g * np.sin(th) + mu_p * thd / (ms * ls))
    return np.array([s[1], xacc, thd[0], thacc[0], thd[1], thacc[1]])


def rk4(s, F, h=0.01):
    k1 = double_pole_deriv(s, F)
    k2 = double_pole_deriv(s + h / 2 * k1, F)
    k3 = double_pole_deriv(s + h / 2 * k2, F)
    k4 = double_pole_deriv(s + h * k3, F)
    return s + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


out = {}
s = [0.01, -0.02, 0.03, 0.04]
cp = []
for F in [10, -10, 10, 10, -10, -10, 10, -10]:
    s = cartpole(s, F)
    cp.append(s)
out['cartpole'] = {'start': [0.01, -0.02, 0.03, 0.04], 'forces': [10, -10, 10, 10, -10, -10, 10, -10], 'states': cp}
for name, start in [('doublePole', [0.0, 0.0, 0.07, 0.0, 0.0, 0.0]), ('doublePoleMoving', [0.1, -0.3, -0.05, 0.2, 0.04, -0.5])]:
    s = np.array(start)
    forces = [10.0, -10.0, 3.5, 0.0, -7.25, 10.0]
    states = []
    for F in forces:
        for _ in range(2):  # the force is held for two 0.01 s steps
            s = rk4(s, F)
        states.append(s.tolist())
    out[name] = {'start': start, 'forces': forces, 'states': states}
print(json.dumps(out))
