/** One example operation: a GraphiQL tab, and what the demo prints. */
export interface ExampleQuery {
  title: string;
  query: string;
  variables?: Record<string, unknown>;
}

/**
 * The four examples GraphiQL opens with and the demo prints: merged sessions with their links
 * followed, one VM's sessions, how a partial answer looks (which servers answered), and the
 * restore sessions live (a subscription, which GraphiQL runs over GraphQL over SSE).
 *
 * @param options `vmName` for the filter example (the demo passes a VM its simulators know)
 */
export function exampleQueries(options: { vmName?: string } = {}): ExampleQuery[] {
  return [
    {
      title: 'Merged restore sessions',
      query: `# The newest restore sessions of every server, merged and sorted by creation time.
# Links are fields: backupServer / restorePoint (Enterprise Manager), organization (VB365).
query MergedRestoreSessions {
  restoreSessions(first: 10) {
    nodes {
      __typename
      name
      state
      result
      creationTime
      source { name kind }
      ... on EnterpriseManagerRestoreSession {
        vmDisplayName
        backupServer { name version }
        restorePoint { pointInTime pointType }
      }
      ... on Microsoft365RestoreSession {
        type
        organization { name }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`,
    },
    {
      title: 'Sessions of one VM',
      query: `# Restore sessions of one VM (Enterprise Manager servers; VB365 servers are skipped).
query SessionsOfVm($vm: String!) {
  restoreSessions(first: 20, filter: { vmName: $vm }) {
    nodes {
      ... on EnterpriseManagerRestoreSession {
        name
        jobType
        state
        result
        creationTime
        source { name }
        restorePoint { pointInTime }
      }
    }
  }
}
`,
      variables: { vm: options.vmName ?? 'srv04' },
    },
    {
      title: 'Sources and partial results',
      query: `# Every configured server with its health, and which servers answered this page.
# When a server is down the page still comes back, with the failure in sourceErrors.
query SourcesAndOutcomes {
  sources { name kind apiVersion status latencyMs }
  restoreSessions(first: 5) {
    outcomes { source { name } status contributed error { code message } }
    sourceErrors { source { name } code message retryable }
  }
}
`,
    },
    {
      title: 'Live restore sessions',
      query: `# Restore sessions as they change (started, progressing, finished) and servers going down or
# coming back, as the gateway's poller sees them. Runs until stopped (the run button stops it).
subscription LiveSessions {
  restoreSessionChanged {
    type
    changedFields
    at
    source { name }
    session {
      name
      state
      result
      creationTime
      endTime
      ... on EnterpriseManagerRestoreSession { progress vmDisplayName }
    }
    error { code message }
  }
}
`,
    },
  ];
}
