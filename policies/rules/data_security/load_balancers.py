"""Load balancers facing the internet: no plain-HTTP listener that does not redirect to HTTPS, a current TLS
policy, access logs. AWS ALB/NLB and GCP external HTTP(S) load balancers."""

from __future__ import annotations

from typing import Any

from newinfra.policies.rules.common import get, items, of_types, stack_rule, truthy
from pulumi_policy import ReportViolation, StackValidationArgs

from newinfra.links import Index

LBS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
GCP_RULES = ("gcp:compute/globalForwardingRule:GlobalForwardingRule", "gcp:compute/forwardingRule:ForwardingRule")
GCP_HTTP_PROXY = "gcp:compute/targetHttpProxy:TargetHttpProxy"
GCP_URL_MAP = "gcp:compute/uRLMap:URLMap"
GCP_SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
# Listener TLS policies that refuse TLS 1.0 and 1.1 (an unset sslPolicy is ELBSecurityPolicy-2016-08: 1.0 too).
CURRENT_TLS = ("TLS13", "TLS-1-2")
EXTERNAL_SCHEMES = ("EXTERNAL", "EXTERNAL_MANAGED")


def _internet_facing(lb: Any) -> bool:
    return not truthy(get(lb.props, "internal")) and get(lb.props, "loadBalancerType", "application") != "gateway"


def _redirects_to_https(listener: Any) -> bool:
    return any(get(a, "type") == "redirect" and get(a, "redirect.protocol") == "HTTPS"
               for a in items(get(listener, "defaultActions")))


def _aws(args: StackValidationArgs, report: ReportViolation) -> None:
    lbs = of_types(args.resources, LBS)
    for lb in lbs:
        if _internet_facing(lb) and not truthy(get(lb.props, "accessLogs.enabled")):
            report(f"internet-facing load balancer '{lb.name}' has no accessLogs (enabled true with a bucket).",
                   lb.urn)
    index = Index(lbs)
    for listener in of_types(args.resources, LISTENERS):
        targets = index.resolve(listener, "loadBalancerArn")
        # A listener on a load balancer made elsewhere is judged as internet-facing (the strict side).
        if targets and not any(_internet_facing(t) for t in targets):
            continue
        p, port = listener.props, get(listener.props, "port", "?")
        port = f"{port:g}" if isinstance(port, float) else port  # numbers arrive as floats
        protocol = get(p, "protocol", "HTTP" if get(p, "sslPolicy") is None else "HTTPS")
        if protocol == "HTTP" and not _redirects_to_https(p):
            report(f"listener '{listener.name}' serves plain HTTP on port {port} to the internet without a "
                   "redirect to HTTPS.", listener.urn)
        if protocol in ("HTTPS", "TLS"):
            policy = get(p, "sslPolicy", "ELBSecurityPolicy-2016-08 (default)")
            if not any(tag in policy for tag in CURRENT_TLS):
                report(f"listener '{listener.name}' on port {port} uses TLS policy {policy}, which admits TLS "
                       "1.0/1.1.", listener.urn)


def _gcp(args: StackValidationArgs, report: ReportViolation) -> None:
    proxies = Index(of_types(args.resources, [GCP_HTTP_PROXY]))
    url_maps = Index(of_types(args.resources, [GCP_URL_MAP]))
    for rule in of_types(args.resources, GCP_RULES):
        if get(rule.props, "loadBalancingScheme", "EXTERNAL") not in EXTERNAL_SCHEMES:
            continue
        for proxy in proxies.resolve(rule, "target"):
            maps = url_maps.resolve(proxy, "urlMap")
            if maps and all(get(m.props, "defaultUrlRedirect.httpsRedirect") is True for m in maps):
                continue  # the usual HTTP-to-HTTPS redirect front end
            report(f"external forwarding rule '{rule.name}' serves plain HTTP through '{proxy.name}' (port "
                   f"{get(rule.props, 'portRange', '80')}); use a TargetHttpsProxy, or a URL map with "
                   "defaultUrlRedirect.httpsRedirect.", rule.urn)
    for policy in of_types(args.resources, [GCP_SSL_POLICY]):
        version = get(policy.props, "minTlsVersion", "TLS_1_0")
        if version not in ("TLS_1_2", "TLS_1_3"):
            report(f"SSL policy '{policy.name}' has minTlsVersion {version}; set TLS_1_2.", policy.urn)


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    _aws(args, report)
    _gcp(args, report)


load_balancer_tls_and_logs = stack_rule(
    "load-balancer-tls-and-logs",
    "Internet-facing load balancers speak TLS 1.2+ and log requests. Fix: AWS: an HTTP listener's "
    "defaultActions redirect to HTTPS (redirect.protocol 'HTTPS'), HTTPS/TLS listeners use an sslPolicy such as "
    "ELBSecurityPolicy-TLS13-1-2-2021-06, accessLogs {enabled: true, bucket}; GCP: external forwarding rules "
    "target a TargetHttpsProxy (or a redirect-only URL map), SSL policies minTlsVersion TLS_1_2.",
    [*LBS, *LISTENERS, *GCP_RULES, GCP_HTTP_PROXY, GCP_URL_MAP, GCP_SSL_POLICY],
    _validate,
)

POLICIES = [load_balancer_tls_and_logs]
