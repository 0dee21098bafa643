/* global document, fetch, FormData, React, ReactDOM, GraphiQL */
// The explorer page's script (served as /assets/explorer.js; the page allows no inline script).
// It mounts GraphiQL with a fetcher that sends the token of the login bar's user, and answers
// GraphiQL's introspection query from /graphiql/schema.json (see explorer-routes.ts).

const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { accessToken user { id roles } }
}`;

let token = null;
const form = document.getElementById('login');
const status = document.getElementById('status');
const logout = document.getElementById('logout');

async function post(body, headers) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return response.json();
}

async function fetcher(params, options) {
  if (params.operationName === 'IntrospectionQuery') {
    return (await fetch('/graphiql/schema.json')).json();
  }
  // Headers typed into GraphiQL's header editor win over the login bar's token.
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...options?.headers };
  return post(params, headers);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const result = await post({
    query: LOGIN,
    variables: { username: data.get('username'), password: data.get('password') },
  }).catch((error) => ({ errors: [{ message: String(error) }] }));
  if (result.data) {
    token = result.data.login.accessToken;
    const { id, roles } = result.data.login.user;
    status.textContent = `Logged in as ${id} (${roles.length ? roles.join(', ') : 'public'}): queries run as this user.`;
    logout.hidden = false;
    form.password.value = '';
  } else {
    status.textContent = `Login failed: ${result.errors?.[0]?.message ?? 'unknown error'}`;
  }
});

logout.addEventListener('click', () => {
  token = null;
  logout.hidden = true;
  status.textContent = 'Not logged in: queries run anonymously.';
});

const DEFAULT_QUERY = `# Log in above, then run this to see what that user sees.
{
  me { id roles attributes }
  customersCount
  customers(limit: 5) { id companyName region }
}
`;

ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY }),
);
