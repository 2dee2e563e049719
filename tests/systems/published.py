"""Vector fields written out independently from the cited papers, for known-answer tests.

Each function takes the state as separate arrays and the parameters by name, in the form
the paper prints (not chaoslab's catalog text), so a transcription error in either shows.
"""
import numpy as np

pi = np.pi


def Lorenz(x, y, z, sigma, rho, beta):
    return sigma * (y - x), rho * x - y - x * z, x * y - beta * z


def Rossler(x, y, z, a, b, c):
    return -(y + z), x + a * y, b + x * z - c * z


def Chen(x, y, z, a, b, c):
    return a * (y - x), (c - a) * x - x * z + c * y, x * y - b * z


def LuChen(x, y, z, a, b, c):
    return a * (y - x), -x * z + c * y, x * y - b * z


def Thomas(x, y, z, a, b):
    return b * np.sin(y) - a * x, b * np.sin(z) - a * y, b * np.sin(x) - a * z


def Aizawa(x, y, z, a, b, c, d, e, f):
    return ((z - b) * x - d * y, d * x + (z - b) * y,
            c + a * z - z ** 3 / 3 - (x ** 2 + y ** 2) * (1 + e * z) + f * z * x ** 3)


def Halvorsen(x, y, z, a, b):
    return (-a * x - b * y - b * z - y ** 2, -a * y - b * z - b * x - z ** 2,
            -a * z - b * x - b * y - x ** 2)


def Dadras(x, y, z, c, e, o, p, r):
    return y - p * x + o * y * z, r * y - x * z + z, c * x * y - e * z


def Chua(x, y, z, alpha, beta, m0, m1):
    # Chua's diode: h(x) = m1 x + (m0 - m1)/2 (|x + 1| - |x - 1|)
    h = m1 * x + 0.5 * (m0 - m1) * (np.abs(x + 1) - np.abs(x - 1))
    return alpha * (y - x - h), x - y + z, -beta * y


def SprottA(x, y, z):
    return y, -x + y * z, 1 - y ** 2


def SprottB(x, y, z):
    return y * z, x - y, 1 - x * y


def Rucklidge(x, y, z, a, b):
    return -a * x + b * y - y * z, x, -z + y ** 2


def Arneodo(x, y, z, a, b, c, d):
    return y, z, -a * x - b * y - c * z + d * x ** 3


def GenesioTesi(x, y, z, a, b, c):
    return y, z, -c * x - b * y - a * z + x ** 2


def NoseHoover(x, y, z, a):
    return y, -x + y * z, a - y ** 2


def RabinovichFabrikant(x, y, z, a, g):
    return (y * (z - 1 + x ** 2) + g * x, x * (3 * z + 1 - x ** 2) + g * y,
            -2 * z * (a + x * y))


def ShimizuMorioka(x, y, z, a, b):
    return y, (1 - z) * x - a * y, x ** 2 - b * z


def Duffing(x, y, z, alpha, beta, delta, gamma, omega):
    # x'' + delta x' + beta x + alpha x^3 = gamma cos(z), z = omega t
    return y, gamma * np.cos(z) - delta * y - beta * x - alpha * x ** 3, omega + 0 * x


def DoublePendulum(th1, th2, p1, p2, g, l1, l2, m1, m2):
    # Hamilton's equations of the planar double pendulum in canonical momenta
    d = th1 - th2
    s = m1 + m2 * np.sin(d) ** 2
    w1 = (l2 * p1 - l1 * p2 * np.cos(d)) / (l1 ** 2 * l2 * s)
    w2 = (l1 * (m1 + m2) * p2 - l2 * m2 * p1 * np.cos(d)) / (l1 * l2 ** 2 * m2 * s)
    c1 = p1 * p2 * np.sin(d) / (l1 * l2 * s)
    c2 = ((l2 ** 2 * m2 * p1 ** 2 + l1 ** 2 * (m1 + m2) * p2 ** 2
           - l1 * l2 * m2 * p1 * p2 * np.cos(d)) * np.sin(2 * d)
          / (2 * l1 ** 2 * l2 ** 2 * s ** 2))
    return w1, w2, -(m1 + m2) * g * l1 * np.sin(th1) - c1 + c2, -m2 * g * l2 * np.sin(th2) + c1 - c2


def Lorenz96(*xs, f):
    x = np.stack(xs)
    return tuple((np.roll(x, -1, 0) - np.roll(x, 2, 0)) * np.roll(x, 1, 0) - x + f)


def DoubleGyre(x, y, alpha, eps, omega, t=0.0):
    a = eps * np.sin(omega * t)
    b = 1 - 2 * eps * np.sin(omega * t)
    fx = a * x ** 2 + b * x
    dfdx = 2 * a * x + b
    return (-pi * alpha * np.sin(pi * fx) * np.cos(pi * y),
            pi * alpha * np.cos(pi * fx) * np.sin(pi * y) * dfdx)


def BickleyJet(y, x, ell, eps1, eps2, eps3, k1, k2, k3, omega, sigma1, sigma2, sigma3, u,
               t=0.0):
    # Rypina et al. (2007), Hadjighasem et al. (2017): stream function
    #   psi = -U L tanh(y/L) + U L sech^2(y/L) sum_n eps_n cos(k_n (x - c_n t)),
    # velocity x' = -dpsi/dy, y' = dpsi/dx (U = u, L = ell, c_n = sigma_n; omega = 1 only
    # names dysts' phase variable, which is t here). State order (y, x) as in the catalog.
    U, L = u, ell
    f = 0.0
    fx = 0.0
    for e, k, c in ((eps1, k1, sigma1), (eps2, k2, sigma2), (eps3, k3, sigma3)):
        f = f + e * np.cos(k * (x - c * omega * t))
        fx = fx - e * k * np.sin(k * (x - c * omega * t))
    sech2 = 1 / np.cosh(y / L) ** 2
    # d/dy of tanh(y/L) is sech^2/L, of sech^2(y/L) is -2 sech^2 tanh / L
    dpsi_dy = -U * sech2 - 2 * U * sech2 * np.tanh(y / L) * f
    dpsi_dx = U * L * sech2 * fx
    return dpsi_dx, -dpsi_dy


def Logistic(x, r):
    return (r * x * (1 - x),)


def Henon(x, y, a, b):
    return 1 - a * x ** 2 + y, b * x


def Ikeda(x, y, u):
    tau = 0.4 - 6 / (1 + x ** 2 + y ** 2)
    return 1 + u * (x * np.cos(tau) - y * np.sin(tau)), u * (x * np.sin(tau) + y * np.cos(tau))


def Chirikov(p, x, k):
    pn = p + k * np.sin(x)
    return pn, x + pn


def Tinkerbell(x, y, a, b, c, d):
    return x ** 2 - y ** 2 + a * x + b * y, 2 * x * y + c * x + d * y
