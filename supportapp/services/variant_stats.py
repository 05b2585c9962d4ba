"""Statistics for appeal tests, from scipy: intervals and the chance to beat the control.

scipy is imported where it is used: it takes about a second, which every start of the app
(`make run`, each gunicorn worker, each `flask` command) would otherwise pay for a report.
"""


def conversion_interval(conversions, impressions, confidence=0.95):
    """Wilson score interval for a conversion rate, or (None, None) with no impressions.

    It always contains its estimate, conversions / impressions: counts past the impressions
    are a funnel that does not hold (reports never pass one), and float rounding at 0 and 1
    must not put the estimate a hair outside.
    """
    from scipy import stats

    if impressions <= 0:
        return None, None
    if not 0 <= conversions <= impressions:
        raise ValueError(f"{conversions} conversions of {impressions} impressions")
    interval = stats.binomtest(conversions, impressions).proportion_ci(
        confidence_level=confidence, method="wilson")
    estimate = conversions / impressions
    return min(float(interval.low), estimate), max(float(interval.high), estimate)


def chance_to_beat(conversions, impressions, control_conversions, control_impressions):
    """P(variant's true rate > control's), with uniform Beta(1, 1) priors on both rates.

    Integrates pdf_variant(x) * cdf_control(x) over [0, 1] numerically; None without data.
    """
    from scipy import integrate, stats

    if impressions <= 0 or control_impressions <= 0:
        return None
    variant = stats.beta(1 + min(conversions, impressions),
                         1 + impressions - min(conversions, impressions))
    control = stats.beta(1 + min(control_conversions, control_impressions),
                         1 + control_impressions - min(control_conversions, control_impressions))
    # With large samples the densities are needles; integrate only where they have mass.
    low = max(0.0, min(variant.ppf(1e-12), control.ppf(1e-12)))
    high = min(1.0, max(variant.isf(1e-12), control.isf(1e-12)))
    value, _error = integrate.quad(lambda x: variant.pdf(x) * control.cdf(x), low, high,
                                   points=[variant.mean(), control.mean()], limit=200)
    return min(1.0, max(0.0, float(value)))
