import fc from 'fast-check';

/**
 * What the API fuzzer sends, as plain data (so fast-check can print and replay it). SIDs are not
 * known when a request is generated: a `Ref` names one of those seen so far in the run, by kind
 * and index, and is resolved when the request is sent.
 */
export type PoolKind =
  | 'workspace'
  | 'activity'
  | 'taskChannel'
  | 'taskChannelName'
  | 'worker'
  | 'workerChannel'
  | 'task'
  | 'reservation';
export interface Ref {
  ref: PoolKind;
  n: number;
}
/**
 * A long string, kept as its recipe so that a failing case prints short: the concatenation of
 * each part repeated so many times.
 */
export class Long {
  constructor(readonly parts: [string, number][]) {}
  text(): string {
    return this.parts.map(([s, n]) => s.repeat(n)).join('');
  }
  [fc.toStringMethod](): string {
    return `long(${this.parts.map(([s, n]) => `${JSON.stringify(s)}×${n}`).join(' + ')})`;
  }
}
export const long = (...parts: [string, number][]) => new Long(parts);

/** A value as the client writes it: text, a reference, or (in JSON bodies) any JSON. */
export type Value = string | Long | Ref | JsonLike;
type JsonLike = number | boolean | null | JsonLike[] | { [key: string]: JsonLike };

export type RouteName =
  | 'workspaces'
  | 'workspace'
  | 'activities'
  | 'activity'
  | 'taskChannels'
  | 'taskChannel'
  | 'workers'
  | 'worker'
  | 'statistics'
  | 'workerChannels'
  | 'workerChannel'
  | 'tasks'
  | 'task'
  | 'taskReservations'
  | 'taskReservation'
  | 'workerReservations'
  | 'workerReservation';

/** A path segment: a reference of the right kind or the wrong one, or literal text put in the URL as is. */
export type Segment = Ref | { text: string | Long };

export type Body =
  | { kind: 'form'; raw: boolean[] } // raw[i]: parameter i's value goes in unencoded (hostile escapes)
  | { kind: 'json' }
  | { kind: 'text'; contentType: string | null; text: string | Long } // wrong shapes, wrong types, no type
  | { kind: 'none' };

export interface Recipe {
  route: RouteName;
  method: string;
  segments: Segment[];
  params: [string, Value][];
  body: Body;
  ifMatch?: string | Long;
  /** Sent with another account's credentials: must never see or change this account's data. */
  asOther: boolean;
  /** Credentials that are no account's: nothing may succeed. */
  badCredentials?: BadCredentials;
  /** The path bent: a trailing or doubled slash, or the wrong case. */
  pathVariant?: 'trailingSlash' | 'doubleSlash' | 'lowerCase';
  /** Raw text appended to the query string. */
  querySuffix?: string;
}

export type BadCredentials = 'none' | 'wrongToken' | 'unknownAccount' | 'notBase64' | 'bearer' | 'empty';

// ---- values ----

const HEX = '0123456789abcdefABCDEF'.split('');
const hex32 = fc.string({ unit: fc.constantFrom(...HEX), minLength: 32, maxLength: 32 });
const ALL_PREFIXES = ['AC', 'WS', 'WA', 'TC', 'WK', 'WC', 'WQ', 'WW', 'WT', 'SK', 'ws', 'Wk'];
const sidShaped = fc.tuple(fc.constantFrom(...ALL_PREFIXES), hex32).map(([p, h]) => p + h);

const ref = (kind: PoolKind): fc.Arbitrary<Ref> => fc.nat(50).map((n) => ({ ref: kind, n }));
const anyRef: fc.Arbitrary<Ref> = fc
  .constantFrom<PoolKind>(
    'workspace',
    'activity',
    'taskChannel',
    'taskChannelName',
    'worker',
    'workerChannel',
  )
  .chain(ref);

/** Strings a careless or hostile client sends. */
const hostileText: fc.Arbitrary<string | Long> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\t\n',
    'null',
    'undefined',
    '[object Object]',
    '__proto__',
    'constructor',
    "' OR 1=1 --",
    "Robert'); DROP TABLE workers;--",
    '%',
    '%_*',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u200b\ufeff',
    '名前 😀',
    '👩‍👩‍👧‍👦',
    'e\u0301',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    'RealTimeStatistics',
    '{}',
    '[]',
    '{"a":1}',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(63, 64, 65, 1024, 2049, 16_385).map((n) => long(['x', n])),
  sidShaped,
);

/** Percent-escapes that do not decode, or decode to invalid UTF-8, and form syntax in a value. */
const rawEscape = fc.constantFrom(
  '%',
  '%Z',
  '%ZZ',
  '%FF',
  '%FF%FE',
  '%C3',
  '%C3%28',
  '%E0%A4%A',
  '%ED%A0%80', // an encoded lone surrogate
  '%F4%90%80%80', // beyond U+10FFFF
  '%00',
  '+++',
  'a=b=c',
  '%26%3D',
  '%E2%82%AC',
);

const nameValue = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ._-]{0,20}$/) },
  { weight: 3, arbitrary: hostileText },
);

const BOOL_SPELLINGS = ['true', 'false', '1', '0', 'yes', 'no', 'TRUE', 'False', 'YES', 'No', ' true ', 't'];
const boolValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...BOOL_SPELLINGS) },
  { weight: 1, arbitrary: fc.constantFrom('on', 'off', 'maybe', '', '2', '-1', 'truee', 'null') },
  { weight: 1, arbitrary: fc.mixedCase(fc.constantFrom('true', 'false', 'yes', 'no')) },
);

const intValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -2, max: 1002 }).map(String) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '50',
      '51',
      '1000',
      '1001',
      ' 5 ',
      '05',
      '1.5',
      '1e3',
      '0x10',
      '-0',
      '+5',
      'NaN',
      'Infinity',
      '9'.repeat(16),
      '9'.repeat(400),
      '',
    ),
  },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

const sidValue = (kind: PoolKind) =>
  fc.oneof(
    { weight: 6, arbitrary: ref(kind) },
    { weight: 1, arbitrary: anyRef },
    { weight: 1, arbitrary: sidShaped },
    {
      weight: 1,
      arbitrary: hostileText,
    },
  );

/** JSON nested `depth` levels deep. */
export function nested(depth: number, open = '{"a":', close = '}'): Long {
  return long([open, depth], ['1', 1], [close, depth]);
}

const jsonValue = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  {
    weight: 3,
    arbitrary: fc
      .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }))
      .map((v) => JSON.stringify(v)),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '{}',
      '{"skills":["en","es"],"level":3}',
      '[1,2]',
      '"text"',
      '1',
      'null',
      '{',
      '{"a":1,}',
      "{'a':1}",
      '{"__proto__":{"polluted":true}}',
      '{"a":1,"a":2}',
      nested(31),
      nested(32),
      nested(33),
      nested(40, '[', ']'),
      nested(5000),
      long(['{"x":"', 1], ['y', 16_378], ['"}', 1]), // 16,384 characters: the most there may be
      long(['{"x":"', 1], ['y', 16_379], ['"}', 1]),
      '{"x":"\\ud800"}',
      '{"x":1e400}',
    ),
  },
  { weight: 1, arbitrary: hostileText },
);

const urlValue = fc.oneof(
  fc.webUrl().map(String),
  fc.constantFrom(
    '',
    'http://example.com/cb',
    'https://x',
    'ftp://x',
    'javascript:alert(1)',
    'not a url',
    '//x',
  ),
  hostileText,
);

const PAGE_SIZES = ['1', '2', '50', '1000', '1001', '0', '-1', 'abc', '1e400', '99999999', ''];
type Kind =
  | 'name'
  | 'bool'
  | 'int'
  | 'json'
  | 'url'
  | 'text'
  | 'order'
  | 'pageSize'
  | 'pageToken'
  | 'taskStatus'
  | 'reservationStatus'
  | 'instruction'
  | 'taskOrdering'
  | 'dateTime'
  | PoolKind;

function valueOf(kind: Kind): fc.Arbitrary<Value> {
  switch (kind) {
    case 'name':
      return nameValue;
    case 'bool':
      return boolValue;
    case 'int':
      return intValue;
    case 'json':
      return jsonValue;
    case 'url':
      return urlValue;
    case 'text':
      return fc.oneof(nameValue, hostileText);
    case 'order':
      return fc.oneof(fc.constantFrom('FIFO', 'LIFO', 'fifo', 'Lifo', 'RANDOM'), hostileText);
    case 'taskStatus':
      return fc.oneof(
        fc.constantFrom(
          'pending',
          'reserved',
          'assigned',
          'wrapping',
          'completed',
          'canceled',
          'pending,canceled',
        ),
        hostileText,
      );
    case 'reservationStatus':
      return fc.oneof(
        fc.constantFrom(
          'pending',
          'accepted',
          'rejected',
          'timeout',
          'canceled',
          'rescinded',
          'wrapping',
          'completed',
        ),
        hostileText,
      );
    case 'instruction':
      return fc.oneof(
        fc.constantFrom('accept', 'reject', 'dequeue', 'call', 'redirect', 'conference', 'fly'),
        hostileText,
      );
    case 'dateTime':
      return fc.oneof(
        fc.constantFrom(
          '2020-01-01T00:00:00Z',
          '1899-12-31T23:59:59Z',
          '2999-01-01T00:00:00Z',
          '2020-02-30',
          'yesterday',
        ),
        hostileText,
      );
    case 'taskOrdering':
      return fc.oneof(
        fc.constantFrom(
          'Priority:desc',
          'DateCreated:asc',
          'Priority:desc,DateCreated:asc',
          'DateCreated,VirtualStartTime',
          'x:y',
        ),
        hostileText,
      );
    case 'pageSize':
      return fc.oneof(fc.constantFrom(...PAGE_SIZES), intValue);
    case 'pageToken':
      return fc.oneof(fc.constantFrom('PA', 'PA' + 'z'.repeat(40), 'garbage', 'x'.repeat(65)), hostileText);
    case 'taskChannelName':
      return fc.oneof(
        { weight: 3, arbitrary: ref('taskChannelName') },
        { weight: 2, arbitrary: ref('taskChannel') },
        { weight: 2, arbitrary: fc.constantFrom('voice', 'sms', 'chat', 'default', 'video', 'Voice') },
        { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/) },
        { weight: 1, arbitrary: sidShaped },
        { weight: 1, arbitrary: hostileText },
      );
    default:
      return sidValue(kind);
  }
}

const PAGING: [string, Kind][] = [
  ['PageSize', 'pageSize'],
  ['Page', 'int'],
  ['PageToken', 'pageToken'],
];

/** Each route and method: its parameters and what they take. */
const PARAMS: Record<string, [string, Kind][]> = {
  'workspaces GET': [['FriendlyName', 'text'], ...PAGING],
  'workspaces POST': [
    ['FriendlyName', 'name'],
    ['EventCallbackUrl', 'url'],
    ['EventsFilter', 'text'],
    ['MultiTaskEnabled', 'bool'],
    ['PrioritizeQueueOrder', 'order'],
    ['Template', 'text'],
  ],
  'workspace POST': [
    ['FriendlyName', 'name'],
    ['EventCallbackUrl', 'url'],
    ['EventsFilter', 'text'],
    ['MultiTaskEnabled', 'bool'],
    ['PrioritizeQueueOrder', 'order'],
    ['DefaultActivitySid', 'activity'],
    ['TimeoutActivitySid', 'activity'],
  ],
  'activities GET': [['FriendlyName', 'text'], ['Available', 'bool'], ...PAGING],
  'activities POST': [
    ['FriendlyName', 'name'],
    ['Available', 'bool'],
  ],
  'activity POST': [['FriendlyName', 'name']],
  'taskChannels GET': PAGING,
  'taskChannels POST': [
    ['FriendlyName', 'name'],
    ['UniqueName', 'taskChannelName'],
    ['ChannelOptimizedRouting', 'bool'],
  ],
  'taskChannel POST': [
    ['FriendlyName', 'name'],
    ['ChannelOptimizedRouting', 'bool'],
  ],
  'workers GET': [
    ['ActivityName', 'text'],
    ['ActivitySid', 'activity'],
    ['Available', 'bool'],
    ['FriendlyName', 'text'],
    ['TargetWorkersExpression', 'text'],
    ['TaskQueueName', 'text'],
    ['TaskQueueSid', 'text'],
    ['Ordering', 'text'],
    ...PAGING,
  ],
  'workers POST': [
    ['FriendlyName', 'name'],
    ['ActivitySid', 'activity'],
    ['Attributes', 'json'],
  ],
  'worker POST': [
    ['ActivitySid', 'activity'],
    ['Attributes', 'json'],
    ['FriendlyName', 'name'],
    ['RejectPendingReservations', 'bool'],
  ],
  'statistics GET': [['TaskChannel', 'taskChannelName']],
  'workerChannels GET': PAGING,
  'workerChannel POST': [
    ['Capacity', 'int'],
    ['Available', 'bool'],
  ],
  'tasks GET': [
    ['AssignmentStatus', 'taskStatus'],
    ['Priority', 'int'],
    ['WorkflowSid', 'text'],
    ['WorkflowName', 'text'],
    ['TaskQueueSid', 'text'],
    ['TaskQueueName', 'text'],
    ['EvaluateTaskAttributes', 'text'],
    ['RoutingTarget', 'worker'],
    ['Ordering', 'taskOrdering'],
    ['HasAddons', 'bool'],
    ...PAGING,
  ],
  'tasks POST': [
    ['RoutingTarget', 'worker'],
    ['Attributes', 'json'],
    ['Priority', 'int'],
    ['Timeout', 'int'],
    ['TaskChannel', 'taskChannelName'],
    ['VirtualStartTime', 'dateTime'],
    ['IgnoreCapacity', 'bool'],
  ],
  'task POST': [
    ['Attributes', 'json'],
    ['AssignmentStatus', 'taskStatus'],
    ['Reason', 'text'],
    ['Priority', 'int'],
    ['TaskChannel', 'taskChannelName'],
    ['VirtualStartTime', 'dateTime'],
  ],
  'taskReservations GET': [['ReservationStatus', 'reservationStatus'], ['WorkerSid', 'worker'], ...PAGING],
  'taskReservation POST': [
    ['ReservationStatus', 'reservationStatus'],
    ['WorkerActivitySid', 'activity'],
    ['Instruction', 'instruction'],
    ['DequeueFrom', 'text'],
    ['CallAccept', 'bool'],
  ],
  'workerReservations GET': [['ReservationStatus', 'reservationStatus'], ...PAGING],
  'workerReservation POST': [
    ['ReservationStatus', 'reservationStatus'],
    ['WorkerActivitySid', 'activity'],
    ['Instruction', 'instruction'],
    ['RedirectAccept', 'bool'],
  ],
};

/** Parameters a create needs, so that runs build up state to work on. */
const REQUIRED: Record<string, string[]> = {
  'workspaces POST': ['FriendlyName'],
  'activities POST': ['FriendlyName'],
  'taskChannels POST': ['FriendlyName', 'UniqueName'],
  'workers POST': ['FriendlyName'],
  'tasks POST': ['RoutingTarget'],
};

/** The path of each route: the kinds its references should name. */
export const PATHS: Record<RouteName, PoolKind[]> = {
  workspaces: [],
  workspace: ['workspace'],
  activities: ['workspace'],
  activity: ['workspace', 'activity'],
  taskChannels: ['workspace'],
  taskChannel: ['workspace', 'taskChannel'],
  workers: ['workspace'],
  worker: ['workspace', 'worker'],
  statistics: ['workspace'],
  workerChannels: ['workspace', 'worker'],
  workerChannel: ['workspace', 'worker', 'workerChannel'],
  tasks: ['workspace'],
  task: ['workspace', 'task'],
  taskReservations: ['workspace', 'task'],
  taskReservation: ['workspace', 'task', 'reservation'],
  workerReservations: ['workspace', 'worker'],
  workerReservation: ['workspace', 'worker', 'reservation'],
};

const METHODS: Record<RouteName, string[]> = {
  workspaces: ['GET', 'POST'],
  workspace: ['GET', 'POST', 'DELETE'],
  activities: ['GET', 'POST'],
  activity: ['GET', 'POST', 'DELETE'],
  taskChannels: ['GET', 'POST'],
  taskChannel: ['GET', 'POST', 'DELETE'],
  workers: ['GET', 'POST'],
  worker: ['GET', 'POST', 'DELETE'],
  statistics: ['GET'],
  workerChannels: ['GET'],
  workerChannel: ['GET', 'POST'],
  tasks: ['GET', 'POST'],
  task: ['GET', 'POST', 'DELETE'],
  taskReservations: ['GET'],
  taskReservation: ['GET', 'POST'],
  workerReservations: ['GET'],
  workerReservation: ['GET', 'POST'],
};

const hostileSegment: fc.Arbitrary<Segment> = fc.oneof(
  sidShaped.map((text) => ({ text })),
  fc
    .constantFrom(
      '',
      '%FF',
      '%ZZ',
      '%E0%A4%A',
      '%2F',
      '..',
      '.',
      'RealTimeStatistics',
      'Statistics',
      'voice',
      '%20',
      long(['x', 1001]), // over the router's longest parameter
      'x'.repeat(64),
      'x'.repeat(65),
    )
    .map((text) => ({ text })),
  hostileText.map((s) => ({ text: encodeURIComponent(toWellFormed(typeof s === 'string' ? s : s.text())) })),
);

function segmentFor(kind: PoolKind): fc.Arbitrary<Segment> {
  const right: fc.Arbitrary<Segment> =
    kind === 'workerChannel'
      ? fc.oneof(ref('workerChannel'), ref('taskChannelName'), ref('taskChannel'))
      : kind === 'taskChannel'
        ? fc.oneof(ref('taskChannel'), ref('taskChannelName'))
        : ref(kind);
  return fc.oneof(
    { weight: 12, arbitrary: right },
    { weight: 1, arbitrary: anyRef },
    { weight: 1, arbitrary: hostileSegment },
  );
}

/** Lone surrogates replaced, as a client's UTF-8 encoder would. */
export function toWellFormed(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

const strangeName = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'hasOwnProperty',
    '',
    'friendlyname',
    'FRIENDLYNAME',
    'Friendly Name',
    'a[b]',
    'a.b',
  ),
  fc.string({ maxLength: 12 }),
);

/** Ordinary values of each kind: what a careful client sends. */
function plainValueOf(kind: Kind): fc.Arbitrary<Value> {
  switch (kind) {
    case 'name':
    case 'text':
      return fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,12}$/);
    case 'bool':
      return fc.constantFrom('true', 'false');
    case 'int':
      return fc.integer({ min: 0, max: 50 }).map(String);
    case 'json':
      return fc.constantFrom('{}', '{"skills":["en"]}', '{"level":2}');
    case 'url':
      return fc.constant('https://example.com/events');
    case 'order':
      return fc.constantFrom('FIFO', 'LIFO');
    case 'pageSize':
      return fc.integer({ min: 1, max: 1000 }).map(String);
    case 'pageToken':
      return fc.constant('');
    case 'taskChannelName':
      return fc.oneof(ref('taskChannelName'), ref('taskChannel'));
    case 'taskStatus':
      return fc.constantFrom('pending', 'canceled', 'wrapping', 'completed');
    case 'reservationStatus':
      return fc.constantFrom('accepted', 'rejected', 'wrapping', 'completed');
    case 'instruction':
      return fc.constantFrom('accept', 'reject', 'dequeue', 'conference');
    case 'taskOrdering':
      return fc.constantFrom('Priority:desc', 'DateCreated:asc');
    case 'dateTime':
      return fc.constant('2020-01-01T00:00:00Z');
    default:
      return ref(kind);
  }
}

function paramsFor(key: string, valid: boolean): fc.Arbitrary<[string, Value][]> {
  const known = PARAMS[key] ?? [];
  const strange = fc.tuple(strangeName, fc.oneof(hostileText, boolValue, intValue));
  if (known.length === 0) return fc.array(strange, { maxLength: 3 });
  const param: fc.Arbitrary<[string, Value]> = fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .constantFrom(...known)
        .chain(([name, kind]) => fc.tuple(fc.constant(name), valid ? plainValueOf(kind) : valueOf(kind))),
    },
    { weight: valid ? 0 : 1, arbitrary: strange },
    {
      weight: valid ? 0 : 1,
      arbitrary: fc
        .constantFrom(...known)
        .chain(([name, kind]) => fc.tuple(fc.mixedCase(fc.constant(name)), valueOf(kind))),
    },
  );
  // Mostly each name once; now and then a repeated parameter.
  const params = fc.oneof(
    { weight: 8, arbitrary: fc.uniqueArray(param, { selector: ([name]) => name, maxLength: 4 }) },
    { weight: valid ? 0 : 1, arbitrary: fc.array(param, { maxLength: 4 }) },
  );
  const required = REQUIRED[key];
  if (!valid || !required) return params;
  // A plausible create: the required parameters with ordinary values, and maybe more.
  return fc
    .tuple(
      fc.tuple(
        ...required.map((name) =>
          fc.tuple(fc.constant(name), plainValueOf(name === 'UniqueName' ? 'name' : 'name')),
        ),
      ),
      params,
    )
    .map(([req, more]) => [...req, ...more.filter(([name]) => !required.includes(name))]);
}

/** JSON bodies of the wrong shape, content types the API does not speak, and oversized bodies. */
const strangeBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .constantFrom(
        '[1,2]',
        '"FriendlyName"',
        '42',
        'null',
        'true',
        '',
        '{',
        '{"FriendlyName":',
        '{"FriendlyName":{"a":1}}',
        '{"FriendlyName":["a","b"]}',
        '{"FriendlyName":null}',
        '{"__proto__":{"x":1},"FriendlyName":"p"}',
        '{"constructor":{"prototype":{"x":1}}}',
        nested(10_000, '[', ']'),
        nested(10_000),
        '\ufeff{"FriendlyName":"bom"}',
      )
      .map((text) => ({ kind: 'text' as const, contentType: 'application/json', text })),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          null,
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded; charset=iso-8859-1',
          'application/JSON',
          'Application/X-WWW-Form-Urlencoded',
          'application/json; charset=utf-16',
          '*/*',
          'application/x-www-form-urlencoded',
        ),
        fc.oneof(
          fc.constantFrom(
            'FriendlyName=x',
            'FriendlyName=x&FriendlyName=y',
            '&&&',
            '=',
            '==x',
            '%',
            'FriendlyName',
          ),
          hostileText,
        ),
      )
      .map(([contentType, text]) => ({ kind: 'text' as const, contentType, text })),
  },
  {
    weight: 1,
    arbitrary: fc.constant<Body>({
      kind: 'text',
      contentType: 'application/x-www-form-urlencoded',
      text: long(['FriendlyName=', 1], ['a', 1_100_000]), // over the body limit
    }),
  },
);

export const recipe: fc.Arbitrary<Recipe> = fc
  .constantFrom<RouteName>(...(Object.keys(PATHS) as RouteName[]))
  .chain((route) =>
    fc.record({
      route: fc.constant(route),
      method: fc.oneof(
        // Deleting a workspace ends most of what a sequence can do: less often.
        ...METHODS[route].map((m) => ({
          weight: route === 'workspace' && m === 'DELETE' ? 2 : 20,
          arbitrary: fc.constant(m),
        })),
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS') },
      ),
      valid: fc.boolean(),
      segments: fc.tuple(...PATHS[route].map(segmentFor)),
      asOther: fc.oneof(
        { weight: 15, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      ifMatch: fc.oneof(
        { weight: 5, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.oneof(fc.constantFrom('*', '"1"', '"2"', 'W/"1"', '1', '"1", "2"', ''), hostileText),
        },
      ),
      strange: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: strangeBody }),
      json: fc.oneof(
        { weight: 5, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      extras: fc.record(
        {
          badCredentials: fc.constantFrom<BadCredentials>(
            'none',
            'wrongToken',
            'unknownAccount',
            'notBase64',
            'bearer',
            'empty',
          ),
          pathVariant: fc.constantFrom(
            'trailingSlash' as const,
            'doubleSlash' as const,
            'lowerCase' as const,
          ),
          querySuffix: fc.constantFrom(
            '&',
            '&&',
            '=',
            '=x',
            'TaskChannel',
            'PageSize',
            '#fragment',
            '?x=1',
            'a[]=1&a[]=2',
            'TaskChannel[]=voice',
            'FriendlyName[x]=1',
            ';x=1',
            '%',
          ),
        },
        { requiredKeys: [] },
      ),
      rare: fc.nat(19), // the extras above apply one time in twenty
    }),
  )
  .chain(({ route, method, valid, segments, asOther, ifMatch, strange, json, extras, rare }) => {
    const key = `${route} ${method}`;
    return paramsFor(key, valid).chain((params) =>
      fc
        .tuple(
          fc.array(
            fc.oneof(
              { weight: 12, arbitrary: fc.constant(false) },
              { weight: 1, arbitrary: fc.constant(true) },
            ),
            {
              minLength: params.length,
              maxLength: params.length,
            },
          ),
          fc.array(rawEscape, { minLength: params.length, maxLength: params.length }),
          fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: params.length, maxLength: params.length }),
        )
        .map(([raw, escapes, jsonValues]): Recipe => {
          let body: Body;
          let sent = params;
          if (strange && method !== 'GET') body = strange;
          else if (method === 'GET' || method === 'HEAD' || method === 'DELETE') body = { kind: 'form', raw };
          else if (json) {
            body = { kind: 'json' };
            // Some JSON values are not strings at all.
            sent = params.map(([n, v], i) => [n, raw[i] ? (jsonValues[i] as JsonLike) : v]);
          } else body = { kind: 'form', raw };
          if (body.kind === 'form') sent = params.map(([n, v], i) => [n, raw[i] ? escapes[i]! : v]);
          const r: Recipe = { route, method, segments, params: sent, body, asOther };
          if (ifMatch !== null && (route === 'worker' || route === 'workers')) r.ifMatch = ifMatch;
          return rare === 0 ? { ...r, ...extras } : r;
        }),
    );
  });

/** A sequence: steps of one to three requests, the requests of a step sent together. */
export const sequence = fc.array(fc.array(recipe, { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 30,
});
