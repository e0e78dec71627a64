/* counters.c: the one table of the ingest's and the pipeline's counters (see counters.h).
 * Order: the JSON totals' order (top level, then the decode, meter and errors objects), then
 * the rows only /metrics shows. */
#include "counters.h"

#include <pthread.h>
#include <string.h>

#include "addr.h"
#include "json.h"
#include "lines.h"
#include "pkt.h"

#define T struct counters_snap
#define C CTR_COUNTER
#define G CTR_GAUGE

/* The top level of the JSON totals. */
#define TOP_ROWS(X)                                                                                \
    X(T, in.packets, "packets", "ingest_packets_total", NULL, C,                                   \
      "Captured packets read (capture files and live interfaces).")                                \
    CTR_ALIAS(T, decode[DC_DATAGRAMS], "datagrams", "decode_datagrams_total")                      \
    CTR_ALIAS(T, decode[DC_RECORDS], "records", "decode_records_total")                            \
    X(T, ps.bytes, "bytes", "flow_bytes_total", NULL, C,                                           \
      "Bytes the flow records carry (sampling applied).")                                          \
    X(T, ps.packets, "flow_packets", "flow_packets_total", NULL, C,                                \
      "Packets the flow records carry (sampling applied).")                                        \
    X(T, ps.by_dir[FLOW_DIR_OUT], "flows_outbound", "flows_total", "direction=\"outbound\"", C,    \
      "Flow records by direction as seen from the customer.")                                      \
    X(T, ps.by_dir[FLOW_DIR_IN], "flows_inbound", "flows_total", "direction=\"inbound\"", C,       \
      "Flow records by direction as seen from the customer.")                                      \
    X(T, ps.by_dir[FLOW_DIR_INTERNAL], "flows_internal", "flows_total", "direction=\"internal\"",  \
      C, "Flow records by direction as seen from the customer.")                                   \
    X(T, ps.unmatched, "flows_unmatched", "flows_total", "direction=\"unmatched\"", C,             \
      "Flow records by direction as seen from the customer.")                                      \
    X(T, ps.to_group, "flows_to_group", "flows_total", "direction=\"group\"", C,                   \
      "Flow records by direction as seen from the customer.")                                      \
    X(T, ps.late, "flows_late", "flows_late_total", NULL, C,                                       \
      "Flow records that ended before the open window.")                                           \
    X(T, ps.time_skew, "flows_time_skew", "flows_time_skew_total", NULL, C,                        \
      "Flow records with times far from their exporter's clock.")                                  \
    X(T, in.non_export, "non_export_packets", "ingest_non_export_packets_total", NULL, C,          \
      "Captured UDP packets that were not flow exports.")                                          \
    X(T, ms.packets, "metered_packets", "meter_packets_total", NULL, C,                            \
      "Packets the flow meter counted.")                                                           \
    X(T, ms.bytes, "metered_bytes", "meter_bytes_total", NULL, C,                                  \
      "IP bytes the flow meter counted.")                                                          \
    X(T, ms.flows, "metered_flows", "meter_flows_total", NULL, C, "Flows the flow meter emitted.") \
    X(T, in.archive_records, "archive_records", "archive_records_total", NULL, C,                  \
      "Flow records read from nfcapd archives.")                                                   \
    X(T, ps.windows_closed, "windows", "windows_closed_total", NULL, C, "Windows closed.")         \
    X(T, ps.summaries, "summaries", "summaries_total", NULL, C, "Customer summaries made.")        \
    X(T, ps.summaries_repeated, "summaries_repeated", "summaries_repeated_total", NULL, C,         \
      "detect: windows re-read after a rebalance whose summaries this process had made (not "      \
      "made again).")                                                                              \
    X(T, ps.alerts.published, "alerts", "alerts_published_total", NULL, C,                         \
      "Alerts handed to the sinks.")                                                               \
    X(T, ps.alerts.suppressed, "alerts_suppressed", "alerts_suppressed_total", NULL, C,            \
      "Alert repeats folded into an earlier alert.")                                               \
    X(T, ps.host_evictions, "host_evictions", "host_evictions_total", NULL, C,                     \
      "Hosts evicted from a full host table.")                                                     \
    X(T, ps.hostility_tracked, "hostility_customers", "hostility_customers", NULL, G,              \
      "Customers whose hostility trend is kept ([hostility] max_customers bounds them).")          \
    X(T, ps.hostility_refused, "hostility_refused", "hostility_refused_total", NULL, C,            \
      "Customers whose hostility trend could not be kept because the table was full.")

#define METER_ROWS(X)                                                                              \
    X(T, ms.created, "meter.created", "meter_flows_created_total", NULL, C,                        \
      "Flows the flow meter started.")                                                             \
    X(T, ms.ended_idle, "meter.ended_idle", "meter_flows_ended_total", "reason=\"idle\"", C,       \
      "Flows the flow meter ended, by reason.")                                                    \
    X(T, ms.ended_active, "meter.ended_active", "meter_flows_ended_total", "reason=\"active\"", C, \
      "Flows the flow meter ended, by reason.")                                                    \
    X(T, ms.ended_tcp, "meter.ended_tcp", "meter_flows_ended_total", "reason=\"tcp\"", C,          \
      "Flows the flow meter ended, by reason.")                                                    \
    X(T, ms.ended_flush, "meter.ended_flush", "meter_flows_ended_total", "reason=\"flush\"", C,    \
      "Flows the flow meter ended, by reason.")                                                    \
    X(T, ms.evicted, "meter.evicted", "meter_flows_evicted_total", NULL, C,                        \
      "Flows emitted early because the flow table was full.")                                      \
    X(T, ms.frag_attributed, "meter.fragments_attributed", "meter_fragments_total",                \
      "outcome=\"attributed\"", C, "Later IP fragments the meter saw, by outcome.")                \
    X(T, ms.frag_portless, "meter.fragments_portless", "meter_fragments_total",                    \
      "outcome=\"portless\"", C, "Later IP fragments the meter saw, by outcome.")                  \
    X(T, ms.frag_map_evicted, "meter.fragment_map_evicted", "meter_fragment_map_evictions_total",  \
      NULL, C, "Fragment map entries overwritten while still live.")                               \
    X(T, ms.no_ports, "meter.no_ports", "meter_packets_without_ports_total", NULL, C,              \
      "Metered packets whose transport header was missing (ports 0).")                             \
    X(T, meter_capacity, "meter.capacity", "meter_flow_table_capacity_flows", NULL, G,             \
      "Capacity of the flow meter's table, in flows.")

/* IP reassembly of fragmented export datagrams (frag.h) */
#define REASSEMBLY_ROWS(X)                                                                         \
    X(T, fs.fragments, "reassembly.fragments", "fragments_total", NULL, C,                         \
      "IP fragments of export datagrams fed to reassembly.")                                       \
    X(T, fs.reassembled, "reassembly.datagrams", "fragment_datagrams_reassembled_total", NULL, C,  \
      "Export datagrams reassembled from fragments.")                                              \
    X(T, frag_in_progress, "reassembly.in_progress", "fragment_datagrams_held", NULL, G,           \
      "Fragmented datagrams being reassembled now.")                                               \
    X(T, fs.timeouts, "reassembly.dropped_timeout", "fragment_datagrams_dropped_total",            \
      "reason=\"timeout\"", C, "Fragmented datagrams dropped incomplete, by reason.")              \
    X(T, fs.evicted, "reassembly.dropped_evicted", "fragment_datagrams_dropped_total",             \
      "reason=\"evicted\"", C, "Fragmented datagrams dropped incomplete, by reason.")              \
    X(T, fs.overlaps, "reassembly.dropped_overlap", "fragment_datagrams_dropped_total",            \
      "reason=\"overlap\"", C, "Fragmented datagrams dropped incomplete, by reason.")              \
    X(T, fs.beyond_end, "reassembly.dropped_beyond_end", "fragment_datagrams_dropped_total",       \
      "reason=\"beyond_end\"", C, "Fragmented datagrams dropped incomplete, by reason.")           \
    X(T, fs.bad, "reassembly.bad_fragments", "fragments_malformed_total", NULL, C,                 \
      "IP fragments malformed (size, past 64 KiB, truncated capture).")

#define ERROR_TAIL_ROWS(X)                                                                         \
    X(T, frag_dropped, "errors.fragments_dropped", "fragment_drops_total", NULL, C,                \
      "Fragmented datagrams dropped incomplete (timeout, eviction, overlap, beyond the end) "      \
      "and malformed fragments.")                                                                  \
    X(T, in.archive_bad_lines, "errors.archive_bad_lines", "input_bad_lines_total",                \
      "input=\"nfcapd\"", C, "Input lines that could not be read (skipped), by input kind.")       \
    X(T, in.log_bad_lines, "errors.log_bad_lines", "input_bad_lines_total", "input=\"flowlog\"",   \
      C, "Input lines that could not be read (skipped), by input kind.")

/* Only on /metrics: what the totals line leaves out. Among them every counter of the worker
 * threads' hand-offs (worker_queue_waits_total, alerts_truncated_total,
 * alert_outbox_waits_total: thread timing, and 0 without threads): a replay's totals line is
 * the same on every run and for any number of workers (int_workers compares them, less the
 * detectors' table counters). */
#define METRIC_ROWS(X)                                                                             \
    X(T, in.packet_bytes, NULL, "ingest_packet_bytes_total", NULL, C,                              \
      "Bytes on the wire of the captured packets read.")                                           \
    X(T, in.datagrams, NULL, "ingest_export_datagrams_total", NULL, C,                             \
      "Captured export datagrams handed to the decoders.")                                         \
    X(T, in.metered, NULL, "ingest_metered_packets_total", NULL, C,                                \
      "Captured packets handed to the flow meter.")                                                \
    X(T, in.pkt_errors[0], NULL, "packet_errors_total", "error=\"other\"", C,                      \
      "Captured packets that could not be parsed, by error.")                                      \
    X(T, templates, NULL, "decode_templates", NULL, G, "Templates held in the cache.")             \
    X(T, ps.flows, NULL, "flow_records_total", NULL, C, "Flow records into the pipeline.")         \
    X(T, ps.hosts_active, NULL, "hosts_active", NULL, G, "Inside hosts in the host tables.")       \
    X(T, ps.host_capacity, NULL, "hosts_capacity", NULL, G,                                        \
      "Capacity of the host tables, in hosts.")                                                    \
    X(T, ps.host_table_bytes, NULL, "hosts_table_bytes", NULL, G,                                  \
      "Bytes of the host tables in use: 8 per position of the capacity, a slot per host held at "  \
      "the high-water mark.")                                                                      \
    X(T, ps.host_slot_bytes, NULL, "host_slot_bytes", NULL, G,                                     \
      "Bytes per host-table slot: the host and every enabled detector's per-host state.")          \
    X(T, ps.hosts_high_water, NULL, "hosts_high_water", NULL, G,                                   \
      "The most hosts the host tables held at once (slots whose pages were touched).")             \
    X(T, ps.host_evictions_active, NULL, "host_evictions_active_total", NULL, C,                   \
      "Hosts evicted while active in the open window.")                                            \
    X(T, ps.host_evictions_dark, NULL, "host_evictions_dark_total", NULL, C,                       \
      "Addresses evicted that had only received (never sent: a scan's dark targets); first to "    \
      "go.")                                                                                       \
    X(T, ps.list_swaps, NULL, "list_swaps_total", NULL, C, "Reloaded lists taken into use.")       \
    X(T, ps.queue_waits, NULL, "worker_queue_waits_total", NULL, C,                                \
      "Times the pipeline thread waited for room in a worker's ring.")                             \
    X(T, ps.alerts_truncated, NULL, "alerts_truncated_total", NULL, C,                             \
      "Alerts from worker threads whose strings did not fit.")                                     \
    X(T, ps.outbox_waits, NULL, "alert_outbox_waits_total", NULL, C,                               \
      "Alerts a worker thread held until the pipeline thread took the ones before them.")          \
    X(T, ps.alerts.raised, NULL, "alerts_raised_total", NULL, C, "Alerts the detectors raised.")   \
    X(T, ps.alerts_without_rule, NULL, "alerts_without_rule_total", NULL, C,                       \
      "Alerts whose rule has no entry in the rule table (no description or reference).")           \
    X(T, ps.alerts_unsorted, NULL, "alerts_unsorted_total", NULL, C,                               \
      "Window-close alerts raised at once, out of their sorted order: no memory to hold them.")    \
    X(T, ps.forwarded, NULL, "flows_forwarded_total", NULL, C,                                     \
      "collect: record parts published to Kafka (an internal record twice, once per customer).")   \
    X(T, ps.resets, NULL, "pipeline_resets_total", NULL, C,                                        \
      "detect: window state dropped at a rebalance (partitions re-read from their commits).")      \
    X(T, ps.reset_failures, NULL, "pipeline_reset_failures_total", NULL, C,                        \
      "detect: rebalances whose workers could not be made anew (the process then exits 1).")       \
    X(T, ps.part_mismatch, NULL, "flows_part_mismatch_total", NULL, C,                             \
      "detect: internal-record parts our customer map does not make internal (dropped).")          \
    X(T, ps.alerts.forgotten, NULL, "alerts_forgotten_total", NULL, C,                             \
      "Alert suppression entries pushed out by the bound.")                                        \
    X(T, ps.alerts.format_errors, NULL, "alert_format_errors_total", NULL, C,                      \
      "Alerts too large to format.")                                                               \
    X(T, ps.alerts.state_saves, NULL, "incidents_file_writes_total", NULL, C,                      \
      "[daemon] incidents_file written (at window closes that raised alerts, and at stop).")       \
    X(T, ps.alerts.state_errors, NULL, "incidents_file_errors_total", NULL, C,                     \
      "[daemon] incidents_file writes that failed (logged once until one succeeds).")              \
    X(T, ps.alerts.state_restored, NULL, "incidents_restored", NULL, G,                            \
      "Incidents read back from [daemon] incidents_file at start.")                                \
    X(T, ps.alerts.state_unsound, NULL, "incidents_file_unsound_total", NULL, C,                   \
      "Entries of [daemon] incidents_file skipped at start as unsound.")                           \
    X(T, ps.alerts.sink_losses, NULL, "sink_losses_total", NULL, C,                                \
      "Messages a sink reported lost.")                                                            \
    X(T, meter_active, NULL, "meter_flow_table_flows", NULL, G,                                    \
      "Flows in the flow meter's table now.")                                                      \
    X(T, fs.bytes_held, NULL, "fragment_bytes_held_bytes", NULL, G,                                \
      "Bytes of fragments held for reassembly now.")                                               \
    X(T, reserved_bytes, NULL, "memory_reserved_bytes", NULL, G,                                   \
      "Bytes of tables made resident at start and at each rebalance's rebuild ([pipeline] "        \
      "reserve_memory; 0 when off; tables freed since included).")

/* Every decoder counter: the Prometheus name (one unit each) and label; the JSON key is the
 * decoder's own name (decode_counter_name). Adding a decoder counter without a line here
 * fails the build. */
struct dc_map {
    const char *metric, *label, *help;
};
#define DG "Flow export datagrams decoded."
#define DR "Flow records decoded."
static const struct dc_map dc_map[DC_COUNT] = {
    [DC_DATAGRAMS] = {"decode_datagrams_total", NULL, DG},
    [DC_RECORDS] = {"decode_records_total", NULL, "Flow records decoded and emitted."},
    [DC_V5_DATAGRAMS] = {"decode_version_datagrams_total", "version=\"v5\"",
                         "Datagrams by export version."},
    [DC_V9_DATAGRAMS] = {"decode_version_datagrams_total", "version=\"v9\"",
                         "Datagrams by export version."},
    [DC_IPFIX_DATAGRAMS] = {"decode_version_datagrams_total", "version=\"ipfix\"",
                            "Datagrams by export version."},
    [DC_V5_RECORDS] = {"decode_version_records_total", "version=\"v5\"",
                       "Records by export version."},
    [DC_V9_RECORDS] = {"decode_version_records_total", "version=\"v9\"",
                       "Records by export version."},
    [DC_IPFIX_RECORDS] = {"decode_version_records_total", "version=\"ipfix\"",
                          "Records by export version."},
    [DC_OPTION_RECORDS] = {"decode_option_records_total", NULL,
                           "Options data records read (not emitted)."},
    [DC_TEMPLATES_ADDED] = {"decode_template_events_total", "event=\"added\"",
                            "Template events, by event."},
    [DC_TEMPLATES_REFRESHED] = {"decode_template_events_total", "event=\"refreshed\"",
                                "Template events, by event."},
    [DC_TEMPLATES_REPLACED] = {"decode_template_events_total", "event=\"replaced\"",
                               "Template events, by event."},
    [DC_TEMPLATES_WITHDRAWN] = {"decode_template_events_total", "event=\"withdrawn\"",
                                "Template events, by event."},
    [DC_TEMPLATES_WITHDRAWAL_IGNORED] = {"decode_template_events_total",
                                         "event=\"withdrawal_ignored\"",
                                         "Template events, by event."},
    [DC_TEMPLATES_EXPIRED] = {"decode_template_events_total", "event=\"expired\"",
                              "Template events, by event."},
    [DC_TEMPLATES_EVICTED] = {"decode_template_events_total", "event=\"evicted\"",
                              "Template events, by event."},
    [DC_BIFLOW_REVERSE] = {"decode_biflow_reverse_records_total", NULL,
                           "Reverse halves of RFC 5103 biflows, emitted as records."},
    [DC_PENDING_BUFFERED] = {"decode_pending_sets_total", "event=\"buffered\"",
                             "Data sets waiting for their template, by event."},
    [DC_PENDING_DECODED] = {"decode_pending_sets_total", "event=\"decoded\"",
                            "Data sets waiting for their template, by event."},
    [DC_PENDING_EXPIRED] = {"decode_pending_sets_total", "event=\"expired\"",
                            "Data sets waiting for their template, by event."},
    [DC_SAMPLING_UNKNOWN] = {"decode_sampling_unknown_records_total", NULL,
                             "Records with no known sampling rate (counted 1:1)."},
    [DC_SEQ_LOST] = {"decode_sequence_lost_total", NULL,
                     "Records or packets the exporters' sequence numbers say were lost."},
    [DC_V9_SET_UNALIGNED] = {"decode_unaligned_sets_total", NULL,
                             "NetFlow v9 flowsets whose length is not a multiple of 4."},
    [DC_EXPORTERS_EVICTED] = {"decode_exporter_evictions_total", NULL,
                              "Exporters evicted from a full exporter table."},
    [DC_DOMAINS_EVICTED] = {"decode_domain_evictions_total", NULL,
                            "Observation domains evicted from a full domain table."},
    [DC_CLOCK_SKEW] = {"decode_clock_skew_records_total", NULL,
                       "Records far from their export header's time (flagged, times kept)."},
    [DC_MESSAGES_MALFORMED] =
        {"decode_malformed_messages_total", NULL,
         "Export messages dropped whole: checked before any of them is applied."},
#define SF_S "sFlow samples read, by kind."
    [DC_SFLOW_DATAGRAMS] = {"decode_version_datagrams_total", "version=\"sflow5\"",
                            "Datagrams by export version."},
    [DC_SFLOW_RECORDS] = {"decode_version_records_total", "version=\"sflow5\"",
                          "Records by export version."},
    [DC_SFLOW_FLOW_SAMPLES] = {"decode_sflow_samples_total", "kind=\"flow\"", SF_S},
    [DC_SFLOW_COUNTER_SAMPLES] = {"decode_sflow_samples_total", "kind=\"counter\"", SF_S},
    [DC_SFLOW_DISCARD_SAMPLES] = {"decode_sflow_samples_total", "kind=\"discard\"", SF_S},
    [DC_SFLOW_OTHER_SAMPLES] = {"decode_sflow_samples_total", "kind=\"other\"", SF_S},
    [DC_SFLOW_DISCARDED_PACKETS] = {"decode_sflow_discarded_packets_total", NULL,
                                    "Packets sFlow discard samples say a device discarded."},
    [DC_SFLOW_AGENT_DROPS] = {"decode_sflow_agent_drops_total", NULL,
                              "Samples sFlow agents say they dropped (their drops counters)."},
    [DC_SFLOW_NO_FLOW] = {"decode_sflow_samples_no_flow_total", NULL,
                          "sFlow flow samples without a readable packet header or IP record."},
    [DC_SFLOW_HEADER_UNPARSED] = {"decode_sflow_headers_unparsed_total", NULL,
                                  "sFlow raw packet headers that are not IP or not parseable."},
    [DC_SFLOW_INNER_HEADERS] = {"decode_sflow_inner_headers_total", NULL,
                                "sFlow raw headers classified by their VXLAN inner packet."},
    [DC_SFLOW_IFACE_UPDATES] = {"decode_sflow_interface_updates_total", NULL,
                                "sFlow generic interface counter records read."},
#define SF_R                                                                                       \
    "Records in sFlow flow samples by format: gateway read (AS numbers); switch, router and "      \
    "other skipped (nothing reads VLANs, next hops or masks)."
    [DC_SFLOW_EXT_GATEWAY] = {"decode_sflow_flow_records_total", "format=\"extended_gateway\"",
                              SF_R},
    [DC_SFLOW_EXT_SWITCH] = {"decode_sflow_flow_records_total", "format=\"extended_switch\"", SF_R},
    [DC_SFLOW_EXT_ROUTER] = {"decode_sflow_flow_records_total", "format=\"extended_router\"", SF_R},
    [DC_SFLOW_RECORDS_SKIPPED] = {"decode_sflow_flow_records_total", "format=\"other\"", SF_R},
    [DC_PACKET_SECTIONS] = {"decode_packet_section_records_total", NULL,
                            "IPFIX records whose addresses came from a packet section."},
    [DC_SHORT_HEADER] = {"decode_datagram_errors_total", "error=\"short_header\"",
                         "Datagrams rejected, by error."},
    [DC_BAD_VERSION] = {"decode_datagram_errors_total", "error=\"bad_version\"",
                        "Datagrams rejected, by error."},
    [DC_BAD_LENGTH] = {"decode_datagram_errors_total", "error=\"bad_length\"",
                       "Datagrams rejected, by error."},
    [DC_BAD_COUNT] = {"decode_datagram_errors_total", "error=\"bad_count\"",
                      "Datagrams rejected, by error."},
    [DC_BAD_SET_LENGTH] = {"decode_set_errors_total", "error=\"bad_set_length\"",
                           "Sets rejected, by error."},
    [DC_BAD_SET_ID] = {"decode_set_errors_total", "error=\"bad_set_id\"",
                       "Sets rejected, by error."},
    [DC_TEMPLATE_INVALID] = {"decode_template_errors_total", "error=\"template_invalid\"",
                             "Templates refused, by error."},
    [DC_TEMPLATE_LIMIT] = {"decode_template_errors_total", "error=\"template_limit\"",
                           "Templates refused, by error."},
    [DC_DOMAIN_LIMIT] = {"decode_datagram_errors_total", "error=\"domain_limit\"",
                         "Datagrams rejected, by error."},
    [DC_EXPORTER_LIMIT] = {"decode_datagram_errors_total", "error=\"exporter_limit\"",
                           "Datagrams rejected, by error."},
    [DC_EXPORTER_DENIED] = {"decode_datagram_errors_total", "error=\"exporter_denied\"",
                            "Datagrams rejected, by error."},
    [DC_NO_TEMPLATE] = {"decode_set_errors_total", "error=\"no_template\"",
                        "Sets rejected, by error."},
    [DC_PENDING_DROPPED] = {"decode_set_errors_total", "error=\"pending_dropped\"",
                            "Sets rejected, by error."},
    [DC_RECORD_SHORT] = {"decode_record_errors_total", "error=\"record_short\"",
                         "Records rejected, by error."},
    [DC_NO_MEMORY] = {"decode_set_errors_total", "error=\"no_memory\"", "Sets rejected, by error."},
    [DC_SFLOW_BAD_SAMPLE] = {"decode_sflow_errors_total", "error=\"bad_sample\"",
                             "sFlow samples and records rejected, by error."},
    [DC_SFLOW_BAD_RECORD] = {"decode_sflow_errors_total", "error=\"bad_record\"",
                             "sFlow samples and records rejected, by error."},
    [DC_IFACE_LIMIT] = {"decode_sflow_errors_total", "error=\"iface_limit\"",
                        "sFlow samples and records rejected, by error."},
};
_Static_assert(DC_COUNT == 62, "a decoder counter was added or removed: give it its line in "
                               "dc_map (its Prometheus name and label)");

static const struct ctr_def top_rows[] = {TOP_ROWS(CTR_ROW)};
static const struct ctr_def meter_rows[] = {METER_ROWS(CTR_ROW)};
static const struct ctr_def reassembly_rows[] = {REASSEMBLY_ROWS(CTR_ROW)};
static const struct ctr_def error_tail_rows[] = {ERROR_TAIL_ROWS(CTR_ROW)};
static const struct ctr_def metric_rows[] = {METRIC_ROWS(CTR_ROW)};

#define NDEFS                                                                                      \
    (sizeof top_rows / sizeof top_rows[0] + DC_COUNT + sizeof meter_rows / sizeof meter_rows[0] +  \
     sizeof reassembly_rows / sizeof reassembly_rows[0] + PKT_ERR_COUNT - 1 +                      \
     sizeof error_tail_rows / sizeof error_tail_rows[0] +                                          \
     sizeof metric_rows / sizeof metric_rows[0])
static struct ctr_def defs[NDEFS];
static char pkt_json[PKT_ERR_COUNT][48], pkt_label[PKT_ERR_COUNT][48];
static char dc_json[DC_COUNT][64];
static size_t ndefs, meter_start; /* meter_start: the first row of the "meter" object */
static pthread_once_t defs_once = PTHREAD_ONCE_INIT;

static void add(const struct ctr_def *d, size_t n)
{
    memcpy(defs + ndefs, d, n * sizeof *d);
    ndefs += n;
}

static void add_decode(bool errors)
{
    for (int c = 0; c < DC_COUNT; c++) {
        if (decode_counter_is_error((enum decode_counter)c) != errors)
            continue;
        snprintf(dc_json[c], sizeof dc_json[c], "%s.%s", errors ? "errors" : "decode",
                 decode_counter_name((enum decode_counter)c));
        defs[ndefs++] = (struct ctr_def){
            dc_json[c],  dc_map[c].metric, dc_map[c].label,
            CTR_COUNTER, dc_map[c].help,   offsetof(T, decode) + (size_t)c * sizeof(uint64_t),
            NULL};
    }
}

static void build(void)
{
    add(top_rows, sizeof top_rows / sizeof top_rows[0]);
    add_decode(false);
    meter_start = ndefs;
    add(meter_rows, sizeof meter_rows / sizeof meter_rows[0]);
    add(reassembly_rows, sizeof reassembly_rows / sizeof reassembly_rows[0]);
    add_decode(true);
    for (int e = 1; e < PKT_ERR_COUNT; e++) {
        snprintf(pkt_json[e], sizeof pkt_json[e], "errors.%s", pkt_err_name(-e));
        snprintf(pkt_label[e], sizeof pkt_label[e], "error=\"%s\"", pkt_err_name(-e));
        defs[ndefs++] = (struct ctr_def){pkt_json[e],
                                         "packet_errors_total",
                                         pkt_label[e],
                                         CTR_COUNTER,
                                         "Captured packets that could not be parsed, by error.",
                                         offsetof(T, in.pkt_errors) + (size_t)e * sizeof(uint64_t),
                                         NULL};
    }
    add(error_tail_rows, sizeof error_tail_rows / sizeof error_tail_rows[0]);
    add(metric_rows, sizeof metric_rows / sizeof metric_rows[0]);
}

const struct ctr_def *counters_defs(size_t *n)
{
    pthread_once(&defs_once, build);
    *n = ndefs;
    return defs;
}

void counters_take(const struct ingest *in, struct pipeline *p, struct counters_snap *out)
{
    memset(out, 0, sizeof *out);
    ingest_stats(in, &out->in);
    const struct decode_ctx *d = ingest_decoder(in);
    for (int c = 0; c < DC_COUNT; c++)
        out->decode[c] = decode_counter(d, (enum decode_counter)c);
    out->templates = decode_template_count(d);
    pipeline_stats(p, &out->ps);
    ingest_meter_stats(in, &out->ms);
    out->meter_active = out->ms.active;
    out->meter_capacity = out->ms.capacity;
    ingest_frag_stats(in, &out->fs);
    out->frag_in_progress = out->fs.in_progress;
    out->frag_dropped =
        out->fs.timeouts + out->fs.evicted + out->fs.overlaps + out->fs.beyond_end + out->fs.bad;
    out->ndet = pipeline_detector_counters(p, out->det, SETTINGS_MAX_DETECTORS);
    out->reserved_bytes = lines_reserved_bytes();
}

/* "detectors.NAME." : where a detector's counters sit in the JSON totals. */
static void det_prefix(const struct detector_ops *ops, char *buf, size_t len)
{
    snprintf(buf, len, "detectors.%s.", ops->name);
}

void counters_prom(struct ctr_text *t, const struct counters_snap *s)
{
    size_t n;
    const struct ctr_def *d = counters_defs(&n);
    const void *snaps[1] = {s};
    ctr_prom(t, d, n, snaps, NULL, 1);
    for (size_t i = 0; i < s->ndet; i++) {
        snaps[0] = s->det[i].v;
        ctr_prom(t, s->det[i].ops->ctr_defs, s->det[i].ops->nctr, snaps, NULL, 1);
    }
}

void counters_table(FILE *f, const struct counters_snap *s)
{
    size_t n;
    const struct ctr_def *d = counters_defs(&n);
    ctr_table(f, NULL, d, n, s);
    for (size_t i = 0; i < s->ndet; i++) {
        char pre[64];
        det_prefix(s->det[i].ops, pre, sizeof pre);
        ctr_table(f, pre, s->det[i].ops->ctr_defs, s->det[i].ops->nctr, s->det[i].v);
    }
}

void counters_list(FILE *f)
{
    size_t n;
    const struct ctr_def *d = counters_defs(&n);
    ctr_list(f, NULL, d, n);
    for (size_t i = 0; i < det_registry_count; i++) {
        const struct detector_ops *ops = det_registry[i];
        if (!ops->counters)
            continue;
        char pre[64];
        det_prefix(ops, pre, sizeof pre);
        ctr_list(f, pre, ops->ctr_defs, ops->nctr);
    }
}

/* The exporters whose records were far from their clock, by address (at most 16: a bounded
 * line); on /metrics: exporter_clock_skew_total{exporter} (status.c, every exporter). */
static void clock_skew_json(const struct ingest *in, struct json *j)
{
    static struct decode_exporter_stats ex[256]; /* main thread only */
    size_t nex = decode_exporters(ingest_decoder(in), ex, 256), listed = 0;
    json_obj_open(j, "exporter_clock_skew");
    for (size_t i = 0; i < nex && listed < 16; i++) {
        if (!ex[i].clock_skew)
            continue;
        char a[ADDR_STRLEN];
        json_u64(j, addr_format(ex[i].addr, a), ex[i].clock_skew);
        listed++;
    }
    json_obj_close(j);
}

void counters_totals_json(const struct ingest *in, struct pipeline *p, struct json *j)
{
    struct counters_snap s;
    counters_take(in, p, &s);
    size_t n;
    const struct ctr_def *d = counters_defs(&n);
    ctr_json(j, d, meter_start, &s);
    clock_skew_json(in, j);
    ctr_json(j, d + meter_start, n - meter_start, &s);
    json_obj_open(j, "detectors");
    for (size_t i = 0; i < s.ndet; i++) {
        json_obj_open(j, s.det[i].ops->name);
        ctr_json(j, s.det[i].ops->ctr_defs, s.det[i].ops->nctr, s.det[i].v);
        json_obj_close(j);
    }
    json_obj_close(j);
}
