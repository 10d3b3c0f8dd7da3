"""The built-in analyzers, listed in one place (third parties use the entry-point group)."""

from __future__ import annotations

from casework.analyzers.auth_failures import auth_failures
from casework.analyzers.changepoints import changepoints
from casework.analyzers.cohort import cohort
from casework.analyzers.env_diff import env_diff
from casework.analyzers.error_signatures import error_signatures
from casework.analyzers.failure_values import failure_values
from casework.analyzers.har_auth import har_auth
from casework.analyzers.har_big_payloads import har_big_payloads
from casework.analyzers.har_clock_skew import har_clock_skew
from casework.analyzers.har_cors import har_cors
from casework.analyzers.har_failed_requests import har_failed_requests
from casework.analyzers.har_oauth_refresh import har_oauth_refresh
from casework.analyzers.har_page_load import har_page_load
from casework.analyzers.har_post_redirect import har_post_redirect
from casework.analyzers.har_redirects import har_redirects
from casework.analyzers.har_slow_phases import har_slow_phases
from casework.analyzers.http_status import http_status
from casework.analyzers.k8s_crashloop import k8s_crashloop
from casework.analyzers.k8s_events import k8s_events
from casework.analyzers.k8s_oom import k8s_oom
from casework.analyzers.k8s_restarts import k8s_restarts
from casework.analyzers.metric_shifts import metric_shifts
from casework.analyzers.net_connect_failures import net_connect_failures
from casework.analyzers.net_dns_failures import net_dns_failures
from casework.analyzers.net_idle_resets import net_idle_resets
from casework.analyzers.net_retransmissions import net_retransmissions
from casework.analyzers.net_tls_alerts import net_tls_alerts
from casework.analyzers.net_zero_window import net_zero_window
from casework.analyzers.novelty import novelty
from casework.analyzers.periodic import periodic
from casework.analyzers.plan_heap_fetches import plan_heap_fetches
from casework.analyzers.plan_index_filter import plan_index_filter
from casework.analyzers.plan_jit import plan_jit
from casework.analyzers.plan_lossy_bitmap import plan_lossy_bitmap
from casework.analyzers.plan_misestimate import plan_misestimate
from casework.analyzers.plan_nested_loop import plan_nested_loop
from casework.analyzers.plan_parallel import plan_parallel
from casework.analyzers.plan_regression import plan_regression
from casework.analyzers.plan_seqscan import plan_seqscan
from casework.analyzers.plan_slow_nodes import plan_slow_nodes
from casework.analyzers.plan_slow_queries import plan_slow_queries
from casework.analyzers.plan_spill import plan_spill
from casework.analyzers.plan_subplan import plan_subplan
from casework.analyzers.plan_triggers import plan_triggers
from casework.analyzers.quiet_failures import quiet_failures
from casework.analyzers.reported_symptoms import reported_symptoms
from casework.analyzers.restart_failures import restart_failures
from casework.analyzers.retry_storms import retry_storms
from casework.analyzers.trace_clock_skew import trace_clock_skew
from casework.analyzers.trace_critical_path import trace_critical_path
from casework.analyzers.trace_error_origin import trace_error_origin
from casework.analyzers.trace_logs import trace_logs
from casework.analyzers.trace_n_plus_one import trace_n_plus_one
from casework.analyzers.trace_service_graph import trace_service_graph
from casework.analyzers.trace_slow import trace_slow
from casework.analyzers.versions import versions
from casework.analyzers.what_changed import what_changed
from casework.engine import Analyzer

BUILTIN: tuple[Analyzer, ...] = (
    http_status,
    har_failed_requests,
    har_redirects,
    har_post_redirect,
    har_cors,
    har_auth,
    har_clock_skew,
    har_oauth_refresh,
    har_slow_phases,
    har_big_payloads,
    har_page_load,
    net_idle_resets,
    net_connect_failures,
    net_retransmissions,
    net_dns_failures,
    net_tls_alerts,
    net_zero_window,
    error_signatures,
    quiet_failures,
    failure_values,
    auth_failures,
    changepoints,
    cohort,
    what_changed,
    periodic,
    metric_shifts,
    novelty,
    retry_storms,
    env_diff,
    versions,
    k8s_oom,
    k8s_crashloop,
    k8s_events,
    k8s_restarts,
    restart_failures,
    trace_error_origin,
    trace_slow,
    trace_n_plus_one,
    trace_critical_path,
    trace_service_graph,
    trace_clock_skew,
    trace_logs,
    plan_slow_nodes,
    plan_seqscan,
    plan_index_filter,
    plan_heap_fetches,
    plan_lossy_bitmap,
    plan_misestimate,
    plan_nested_loop,
    plan_spill,
    plan_subplan,
    plan_parallel,
    plan_jit,
    plan_triggers,
    plan_regression,
    plan_slow_queries,
    reported_symptoms,
)

__all__ = ["BUILTIN"]
