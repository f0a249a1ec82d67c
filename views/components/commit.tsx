/** @jsxImportSource hono/jsx */

/** A commit's short sha, linked through `BATON_GIT_COMMIT_URL` (`{sha}` replaced) when set. */
export function Commit({ sha, urlTemplate }: { sha: string; urlTemplate: string | undefined }) {
  const short = <code title={sha}>{sha.slice(0, 12)}</code>;
  if (!urlTemplate) return short;
  return <a href={urlTemplate.split('{sha}').join(encodeURIComponent(sha))}>{short}</a>;
}
