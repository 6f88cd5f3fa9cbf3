/**
 * The dataset's tables: their columns as the Parquet files hold them, and how each is made from
 * the staged CSV rows the exporter writes. Types are signed only (Spark has no unsigned types),
 * timestamps are UTC microseconds (Parquet TIMESTAMP(isAdjustedToUTC=true, MICROS)), names are
 * flat snake_case. `flows` follows Zeek's conn.log and `http` Zeek's http.log (their field
 * names, `id.orig_h` flattened to `orig_h`).
 */

/** One column: its name in the files and its DuckDB type. */
export interface Column {
  name: string
  type: string
}

/** A table: the CSV columns staged, and the SELECT list that makes the file's columns from them. */
export interface TableSchema {
  name: 'packets' | 'flows' | 'http'
  /** Staged CSV columns in order (`ts_us` is the time in microseconds since the epoch). */
  staged: Column[]
  /** The columns of the files (partition columns date and hour come from `ts`). */
  columns: Column[]
}

const ts: Column = { name: 'ts', type: 'TIMESTAMPTZ' }

/** The packets table; `extra` are the user's -e fields (as `-T fields` prints them, text). */
export function packetsSchema(extra: string[] = []): TableSchema {
  const cols: Column[] = [
    { name: 'frame_number', type: 'BIGINT' }, { name: 'frame_len', type: 'INTEGER' }, { name: 'cap_len', type: 'INTEGER' },
    { name: 'src_addr', type: 'VARCHAR' }, { name: 'dst_addr', type: 'VARCHAR' },
    { name: 'src_port', type: 'INTEGER' }, { name: 'dst_port', type: 'INTEGER' },
    { name: 'ip_proto', type: 'SMALLINT' }, { name: 'protocols', type: 'VARCHAR' },
    ...extra.map((f) => ({ name: fieldColumn(f), type: 'VARCHAR' })),
  ]
  return { name: 'packets', staged: [{ name: 'ts_us', type: 'BIGINT' }, ...cols], columns: [ts, { name: 'capture_file', type: 'VARCHAR' }, ...cols] }
}

const flowCols: Column[] = [
  { name: 'uid', type: 'VARCHAR' }, { name: 'community_id', type: 'VARCHAR' },
  { name: 'orig_h', type: 'VARCHAR' }, { name: 'orig_p', type: 'INTEGER' }, { name: 'resp_h', type: 'VARCHAR' }, { name: 'resp_p', type: 'INTEGER' },
  { name: 'proto', type: 'VARCHAR' }, { name: 'service', type: 'VARCHAR' }, { name: 'duration', type: 'DOUBLE' },
  { name: 'orig_bytes', type: 'BIGINT' }, { name: 'resp_bytes', type: 'BIGINT' }, { name: 'conn_state', type: 'VARCHAR' },
  { name: 'missed_bytes', type: 'BIGINT' }, { name: 'history', type: 'VARCHAR' },
  { name: 'orig_pkts', type: 'BIGINT' }, { name: 'orig_ip_bytes', type: 'BIGINT' }, { name: 'resp_pkts', type: 'BIGINT' }, { name: 'resp_ip_bytes', type: 'BIGINT' },
]

/** The flows table (Zeek conn.log). */
export const flowsSchema: TableSchema = {
  name: 'flows',
  staged: [{ name: 'ts_us', type: 'BIGINT' }, ...flowCols],
  columns: [ts, ...flowCols, { name: 'capture_file', type: 'VARCHAR' }],
}

const httpCols: Column[] = [
  { name: 'uid', type: 'VARCHAR' },
  { name: 'orig_h', type: 'VARCHAR' }, { name: 'orig_p', type: 'INTEGER' }, { name: 'resp_h', type: 'VARCHAR' }, { name: 'resp_p', type: 'INTEGER' },
  { name: 'trans_depth', type: 'INTEGER' }, { name: 'method', type: 'VARCHAR' }, { name: 'host', type: 'VARCHAR' }, { name: 'uri', type: 'VARCHAR' },
  { name: 'version', type: 'VARCHAR' }, { name: 'user_agent', type: 'VARCHAR' },
  { name: 'request_body_len', type: 'BIGINT' }, { name: 'response_body_len', type: 'BIGINT' },
  { name: 'status_code', type: 'INTEGER' }, { name: 'status_msg', type: 'VARCHAR' }, { name: 'interim_responses', type: 'INTEGER' },
  { name: 'resp_mime_types', type: 'VARCHAR' },
]

/** The http table (Zeek http.log's fields that the wire parser knows; `interim_responses` counts 1xx responses). */
export const httpSchema: TableSchema = {
  name: 'http',
  staged: [{ name: 'ts_us', type: 'BIGINT' }, ...httpCols],
  columns: [ts, ...httpCols, { name: 'capture_file', type: 'VARCHAR' }],
}

/** The column name of a -e field: Wireshark's name with dots (and other non-word characters) as underscores. */
export function fieldColumn(field: string): string {
  return field.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase()
}

/** Quotes an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** Quotes an SQL string literal. */
export function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`
}

/**
 * read_csv's buffer (bytes): 32 MiB by default (16 times max_line_size), a third of a
 * conversion's memory; at 2 MiB, max_line_size's default, rows up to 2 MB still read.
 */
export const CSV_BUFFER = 2 << 20

/**
 * The SELECT that turns one staged CSV file into the table's rows, with the partition columns
 * `date` (UTC, YYYY-MM-DD) and `hour` (0-23) last.
 */
export function stagedSelect(t: TableSchema, csvPath: string, captureFile: string): string {
  const columns = t.staged.map((c) => `${literal(c.name)}: ${literal(c.type)}`).join(', ')
  const list = t.columns.map((c) => {
    if (c.name === 'ts') return 'make_timestamp(ts_us)::TIMESTAMPTZ AS ts'
    if (c.name === 'capture_file') return `${literal(captureFile)} AS capture_file`
    return ident(c.name)
  })
  return `SELECT ${list.join(', ')}, strftime(make_timestamp(ts_us), '%Y-%m-%d') AS date, hour(make_timestamp(ts_us))::INTEGER AS hour ` +
    `FROM read_csv(${literal(csvPath)}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', buffer_size = ${CSV_BUFFER}, columns = {${columns}})`
}
