// The dashboard's mustache templates (swift-mustache) and its one stylesheet, compiled into the
// binary so `encore serve` needs no files beside it. Every value is rendered with double braces
// (HTML-escaped); triple braces appear only for `body` (another template's output) and `svg`
// (EncoreCharts output, which escapes its own text).
import Mustache

enum DashboardTemplates {
    static let layout = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · Encore</title>
    <link rel="stylesheet" href="/static/encore.css">
    <link rel="icon" href="/static/icon.svg" type="image/svg+xml">
    </head>
    <body>
    <header>
    <nav aria-label="Dashboard">
    <a class="brand" href="/">Encore</a>
    <a href="/">Overview</a><a href="/data">Data</a><a href="/models">Models</a><a href="/segments">Segments</a><a href="/users">Users</a><a href="/songs">Songs</a><a href="/onboarding">Onboarding</a><a href="/new-songs">New songs</a><a href="/clusters">Clusters</a>
    {{#signOut}}<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Sign out</button></form>{{/signOut}}
    </nav>
    </header>
    <main id="content">
    <h1>{{title}}</h1>
    {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
    {{{body}}}
    </main>
    <footer><p>Encore {{version}} · snapshot v{{snapshot}} · <a href="/metrics">metrics</a> · <a href="/openapi.json">API contract</a></p></footer>
    </body>
    </html>
    """

    static let login = """
    <p>This dashboard needs an API key (<code>encore keys create --role read</code>). It is asked once; the session lasts 12 hours.</p>
    <form method="post" action="/login" class="stack">
    <input type="hidden" name="next" value="{{next}}">
    <label for="key">API key</label>
    <input id="key" name="key" type="password" autocomplete="off" required>
    <button type="submit">Sign in</button>
    </form>
    """

    static let error = """
    <p class="error" role="alert">{{message}}</p>
    <p><a href="/">Back to the overview</a></p>
    """

    static let overview = """
    <section aria-labelledby="live"><h2 id="live">Live</h2>
    <dl class="figures">
    <div><dt>requests per second (10 s)</dt><dd><a href="/metrics">{{rps}}</a></dd></div>
    <div><dt>p99 latency (60 s)</dt><dd><a href="/metrics">{{p99}}</a></dd></div>
    <div><dt>events per second</dt><dd><a href="/metrics">{{eps}}</a></dd></div>
    <div><dt>events accepted</dt><dd><a href="/metrics">{{events}}</a></dd></div>
    </dl>
    </section>
    <section aria-labelledby="data"><h2 id="data">The dataset</h2>
    <table class="compact"><tbody>
    {{#dataset}}<tr><th scope="row">{{name}}</th><td class="num"><a href="/data#{{anchor}}">{{value}}</a></td></tr>{{/dataset}}
    </tbody></table>
    <p>Top songs: {{#topSongs}}<a href="/songs/{{path}}">{{title}}</a> ({{plays}}){{sep}}{{/topSongs}}</p>
    </section>
    <section aria-labelledby="segments"><h2 id="segments">Segments</h2>
    <table class="compact"><thead><tr><th scope="col">segment</th><th scope="col" class="num">listeners</th><th scope="col" class="num">share</th></tr></thead><tbody>
    {{#segments}}<tr><td><a href="/segments#{{id}}">{{name}}</a></td><td class="num">{{size}}</td><td class="num">{{share}}</td></tr>{{/segments}}
    </tbody></table>
    </section>
    <section aria-labelledby="serving"><h2 id="serving">What is served</h2>
    <p>Policies: {{#policies}}<a href="/segments">{{.}}</a> {{/policies}}</p>
    <table class="compact"><thead><tr><th scope="col">model</th><th scope="col">from</th></tr></thead><tbody>
    {{#models}}<tr><td>{{name}}</td><td>{{#record}}<a href="/models#model-{{id}}">registry: {{kind}} v{{version}} (model {{id}})</a>{{/record}}{{^record}}fitted at start{{/record}}</td></tr>{{/models}}
    </tbody></table>
    </section>
    <section aria-labelledby="charts"><h2 id="charts">Listening data</h2>
    <div class="charts">{{#charts}}<figure>{{{svg}}}</figure>{{/charts}}</div>
    </section>
    """

    static let data = """
    <p>The exploratory analysis of the plays this service loaded, the evidence behind the overview's figures.</p>
    {{#tables}}
    <section id="{{id}}" aria-labelledby="h-{{id}}"><h2 id="h-{{id}}">{{title}}</h2>
    <table><thead><tr>{{#header}}<th scope="col">{{.}}</th>{{/header}}</tr></thead><tbody>
    {{#rows}}<tr>{{#cells}}<td{{#numeric}} class="num"{{/numeric}}>{{text}}</td>{{/cells}}</tr>{{/rows}}
    </tbody></table>
    </section>
    {{/tables}}
    """

    static let models = """
    <section aria-labelledby="registry"><h2 id="registry">Registry</h2>
    {{^records}}<p>No model is registered yet: <code>encore train --database DB --model ease</code> registers one.</p>{{/records}}
    {{#hasRecords}}<div class="scroll"><table><thead><tr><th scope="col">id</th><th scope="col">model</th><th scope="col" class="num">version</th><th scope="col">status</th><th scope="col">trained</th><th scope="col">configuration</th><th scope="col"></th></tr></thead><tbody>
    {{#records}}<tr id="model-{{id}}"><td class="num">{{id}}</td><td>{{kind}}</td><td class="num">{{version}}</td><td><span class="status {{status}}">{{status}}</span>{{#serving}} · serving{{/serving}}</td><td>{{trained}}</td><td><code>{{configuration}}</code></td>
    <td>{{#canActivate}}<form method="post" action="/models/{{id}}/activate"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Activate</button></form>{{/canActivate}}</td></tr>{{/records}}
    </tbody></table></div>{{/hasRecords}}
    </section>
    {{#hasLeaderboard}}
    <section aria-labelledby="leaderboard"><h2 id="leaderboard">Evaluation leaderboard</h2>
    <p>Each registered model measured on a per-user holdout of the stored plays when it was trained (<code>encore train</code>); the best value per metric is marked.</p>
    <div class="scroll"><table><thead><tr><th scope="col">model</th>{{#metricNames}}<th scope="col" class="num">{{.}}</th>{{/metricNames}}</tr></thead><tbody>
    {{#leaderboard}}<tr><th scope="row"><a href="#model-{{id}}">{{label}}</a></th>{{#cells}}<td class="num{{#best}} best{{/best}}">{{value}}{{#best}} <span class="visually-hidden">(best)</span>{{/best}}</td>{{/cells}}</tr>{{/leaderboard}}
    </tbody></table></div>
    <div class="charts">{{#charts}}<figure>{{{svg}}}</figure>{{/charts}}</div>
    </section>
    {{/hasLeaderboard}}
    <section aria-labelledby="retrains"><h2 id="retrains">Retrains</h2>
    {{^hasRetrains}}<p>No retrain has run: <code>encore retrain --database DB</code>, or <code>encore serve --retrain-every 6h</code>.</p>{{/hasRetrains}}
    {{#hasRetrains}}<p>Each retrain scores its candidates and the active versions on the songs discovered since those were trained; a candidate better by the margin is promoted.</p>
    <div class="scroll"><table><thead><tr><th scope="col" class="num">retrain</th><th scope="col">started</th><th scope="col">outcome</th><th scope="col">policy</th><th scope="col" class="num">seconds</th><th scope="col">models</th></tr></thead><tbody>
    {{#retrains}}<tr><td class="num">{{id}}</td><td>{{started}}</td><td><span class="status {{status}}">{{status}}</span></td><td>{{policy}}</td><td class="num">{{seconds}}</td>
    <td>{{#models}}{{kind}}: {{metric}} {{candidate}} against {{active}}, {{decision}}<br>{{/models}}{{reason}}</td></tr>{{/retrains}}
    </tbody></table></div>{{/hasRetrains}}
    </section>
    """

    static let segments = """
    <section aria-labelledby="rules"><h2 id="rules">Thresholds</h2>
    <table class="compact"><tbody>{{#rules}}<tr><th scope="row">{{name}}</th><td class="num">{{value}}</td></tr>{{/rules}}</tbody></table>
    </section>
    {{#segments}}
    <section id="{{id}}" aria-labelledby="h-{{id}}"><h2 id="h-{{id}}">{{name}}</h2>
    <p><strong>{{size}}</strong> listeners ({{share}}). Recipe of <em>{{policy}}</em>: {{mode}}{{#cap}}, at most {{cap}} songs per artist{{/cap}}.</p>
    <table class="compact"><thead><tr><th scope="col">source</th><th scope="col" class="num">{{weightName}}</th></tr></thead><tbody>
    {{#sources}}<tr><td>{{name}}</td><td class="num">{{value}}</td></tr>{{/sources}}
    </tbody></table>
    <h3>Offline metrics of this segment</h3>
    {{#hasMetrics}}<table class="compact"><tbody>{{#metrics}}<tr><th scope="row">{{name}}</th><td class="num">{{value}}</td></tr>{{/metrics}}</tbody></table>{{/hasMetrics}}
    {{^hasMetrics}}<p class="small">{{metricsNote}}</p>{{/hasMetrics}}
    <h3>The bandit in this segment</h3>
    <table class="compact"><thead><tr><th scope="col">policy (arm)</th><th scope="col" class="num">posterior mean</th><th scope="col" class="num">95% interval</th><th scope="col" class="num">lists rewarded</th><th scope="col" class="num">rewards</th><th scope="col" class="num">share of traffic</th></tr></thead><tbody>
    {{#arms}}<tr><td>{{arm}}</td><td class="num">{{mean}}</td><td class="num">{{low}}–{{high}}</td><td class="num">{{impressions}}</td><td class="num">{{rewards}}</td><td class="num">{{share}}</td></tr>{{/arms}}
    </tbody></table>
    </section>
    {{/segments}}
    <section aria-labelledby="over-time"><h2 id="over-time">Rewards over time</h2>
    {{#rewardChart}}<figure>{{{rewardChart}}}</figure>{{/rewardChart}}{{^rewardChart}}<p>No samples yet: the chart fills as lists are served (one point every 10 seconds).</p>{{/rewardChart}}
    </section>
    """

    static let userSearch = """
    <form method="get" action="/users" class="row" role="search">
    <label for="id">User id</label><input id="id" name="id" value="{{query}}" required><button type="submit">Show</button>
    </form>
    {{#hasExamples}}<p>For example: {{#examples}}<a href="/users/{{path}}">{{id}}</a> {{/examples}}</p>{{/hasExamples}}
    """

    static let user = """
    <p>Segment: <a href="/segments#{{segmentID}}"><strong>{{segment}}</strong></a>: {{reason}}.{{#folded}} {{folded}} songs played since the models were loaded are folded in.{{/folded}}{{^known}} Not in the loaded plays.{{/known}}</p>
    <div class="columns">
    <section aria-labelledby="list"><h2 id="list">Recommendations ({{policy}})</h2>
    <ol class="songs">{{#items}}<li><a href="/songs/{{path}}">{{title}}</a> <span class="artist">{{artist}}</span>
    <span class="source">{{source}}</span> <span class="reason">{{reason}}</span>
    {{#canPlay}}<form method="post" action="/users/{{userPath}}/play" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="song" value="{{song}}"><button type="submit" aria-label="Play {{title}}">Play</button></form>{{/canPlay}}</li>{{/items}}</ol>
    </section>
    <section aria-labelledby="top"><h2 id="top">Top songs</h2>
    <table class="compact"><thead><tr><th scope="col">song</th><th scope="col" class="num">plays</th></tr></thead><tbody>
    {{#history}}<tr><td><a href="/songs/{{path}}">{{title}}</a></td><td class="num">{{plays}}</td></tr>{{/history}}
    </tbody></table>
    </section>
    </div>
    {{#hasModels}}<section aria-labelledby="single"><h2 id="single">Each model alone</h2>
    <div class="columns">{{#models}}<div><h3>{{name}}</h3><ol class="songs">{{#songs}}<li><a href="/songs/{{path}}">{{title}}</a></li>{{/songs}}</ol></div>{{/models}}</div>
    </section>{{/hasModels}}
    {{#network}}<section aria-labelledby="net"><h2 id="net">Neighbours</h2><figure>{{{network}}}</figure></section>{{/network}}
    """

    static let songSearch = """
    <form method="get" action="/songs" class="row" role="search">
    <label for="q">Title, artist or id</label><input id="q" name="q" value="{{query}}" required><button type="submit">Search</button>
    </form>
    {{#searched}}{{^hasResults}}<p>No song matches “{{query}}”.</p>{{/hasResults}}{{/searched}}
    {{#hasResults}}<ol class="songs">{{#results}}<li><a href="/songs/{{path}}">{{title}}</a> <span class="artist">{{artist}}</span></li>{{/results}}</ol>{{/hasResults}}
    """

    static let song = """
    <p><span class="artist">{{artist}}</span>{{#release}} · {{release}}{{/release}}{{#year}} · {{year}}{{/year}}{{#tags}} · {{tags}}{{/tags}}</p>
    <dl class="figures">
    <div><dt>plays</dt><dd>{{plays}}</dd></div><div><dt>listeners</dt><dd>{{listeners}}</dd></div>
    <div><dt>popularity score</dt><dd>{{popularity}}</dd></div>
    <div><dt>song cluster</dt><dd>{{#cluster}}<a href="/clusters#songs">{{cluster}}</a>{{/cluster}}{{^cluster}}none{{/cluster}}</dd></div>
    </dl>
    {{#clusterLabel}}<p>Cluster label: {{clusterLabel}}</p>{{/clusterLabel}}
    <div class="columns">
    {{#similar}}<section><h2>Similar: {{by}}</h2>{{#hasSongs}}<ol class="songs">{{#songs}}<li><a href="/songs/{{path}}">{{title}}</a> <span class="num">{{score}}</span></li>{{/songs}}</ol>{{/hasSongs}}{{^hasSongs}}<p>{{note}}</p>{{/hasSongs}}</section>{{/similar}}
    <section><h2>Most likely listeners</h2><p class="small">By {{audienceBy}}, among listeners who have not played it.</p>
    <ol>{{#audience}}<li><a href="/users/{{path}}">{{user}}</a> <span class="num">{{score}}</span></li>{{/audience}}</ol></section>
    </div>
    """

    static let onboarding = """
    <form method="get" action="/onboarding" class="stack">
    <label for="artists">Artists you like (comma separated)</label><input id="artists" name="artists" value="{{artists}}">
    <label for="tags">Tags (comma separated)</label><input id="tags" name="tags" value="{{tags}}">
    <button type="submit">Recommend</button>
    </form>
    {{#submitted}}
    {{#hasUnmatched}}<p class="notice" role="status">Matched nothing: {{#unmatched}}{{.}} {{/unmatched}}</p>{{/hasUnmatched}}
    <section aria-labelledby="cold"><h2 id="cold">Your first list</h2>
    <ol class="songs" id="onboarding-list">{{#items}}<li><a href="/songs/{{path}}">{{title}}</a> <span class="artist">{{artist}}</span> <span class="source">{{source}}</span> <span class="reason">{{reason}}</span></li>{{/items}}</ol>
    </section>
    {{/submitted}}
    """

    static let newSongs = """
    <form method="get" action="/new-songs" class="row">
    <label for="user">For user</label><input id="user" name="user" value="{{user}}" required><button type="submit">Show</button>
    </form>
    <ol class="songs" id="new-songs">{{#items}}<li><a href="/songs/{{path}}">{{title}}</a> <span class="artist">{{artist}}</span> <span class="num">{{score}}</span> <span class="reason">{{reason}}</span></li>{{/items}}</ol>
    {{#canAdd}}
    <section aria-labelledby="add"><h2 id="add">Add a song</h2>
    <form method="post" action="/new-songs" class="stack">
    <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="user" value="{{user}}">
    <label for="song-id">Song id</label><input id="song-id" name="id" required>
    <label for="song-title">Title</label><input id="song-title" name="title" required>
    <label for="song-artist">Artist</label><input id="song-artist" name="artist">
    <label for="song-tags">Tags (comma separated)</label><input id="song-tags" name="tags">
    <button type="submit">Add</button>
    </form>
    </section>
    {{/canAdd}}
    """

    static let clusters = """
    {{^ready}}<p class="notice" role="status">The cluster analysis is being computed for this snapshot; reload in a few seconds.</p>{{/ready}}
    {{#sides}}
    <section id="{{id}}" aria-labelledby="h-{{id}}"><h2 id="h-{{id}}">{{name}}: {{k}} clusters</h2>
    <p>Silhouette <strong>{{silhouette}}</strong>{{#sample}} (on a seeded sample of {{sample}}){{/sample}}, Davies–Bouldin <strong>{{daviesBouldin}}</strong>.</p>
    <table class="compact"><thead><tr><th scope="col" class="num">cluster</th><th scope="col" class="num">size</th><th scope="col">label</th></tr></thead><tbody>
    {{#clusters}}<tr><td class="num">{{index}}</td><td class="num">{{size}}</td><td>{{label}}</td></tr>{{/clusters}}
    </tbody></table>
    <div class="charts">{{#charts}}<figure>{{{svg}}}</figure>{{/charts}}</div>
    </section>
    {{/sides}}
    """

    static let icon = """
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#3b4cca"/><path d="M12 23V9l11-2v14" fill="none" stroke="#fff" stroke-width="2.5"/><circle cx="9.5" cy="23" r="3" fill="#fff"/><circle cx="20.5" cy="21" r="3" fill="#fff"/></svg>
    """

    static let stylesheet = """
    :root { --ink: #1c1c1e; --muted: #5b5b66; --line: #d9d9e0; --accent: #3b4cca; --good: #e6f4ea; --bg: #fbfbfd; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
    header { background: #fff; border-bottom: 1px solid var(--line); }
    nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; max-width: 1200px; margin: 0 auto; padding: .6rem 1rem; }
    nav a { color: var(--accent); text-decoration: none; }
    nav a:hover, nav a:focus { text-decoration: underline; }
    nav .brand { font-weight: 700; color: var(--ink); margin-right: .5rem; }
    main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
    footer { max-width: 1200px; margin: 2rem auto; padding: 0 1rem; color: var(--muted); font-size: .875rem; }
    h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
    h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
    h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
    table { border-collapse: collapse; margin: .5rem 0; display: block; max-width: 100%; overflow-x: auto; }
    th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th.num, td.num, .num { text-align: right; font-variant-numeric: tabular-nums; }
    td.best { background: var(--good); font-weight: 600; }
    .scroll { overflow-x: auto; max-width: 100%; }
    .figures { display: flex; flex-wrap: wrap; gap: 1rem; margin: 0; }
    .figures div { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; min-width: 10rem; }
    .figures dt { color: var(--muted); font-size: .85rem; }
    .figures dd { margin: 0; font-size: 1.3rem; font-variant-numeric: tabular-nums; }
    .charts { display: flex; flex-wrap: wrap; gap: 1rem; }
    .charts figure { min-width: 0; flex: 0 1 auto; }
    figure { margin: 0; max-width: 100%; min-width: 0; }
    .columns > * { min-width: 0; }
    svg { display: block; max-width: 100%; height: auto; }
    main { overflow-wrap: anywhere; }
    .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); gap: 1rem 2rem; }
    ol.songs { padding-left: 1.6rem; }
    ol.songs li { margin: .3rem 0; }
    .artist { color: var(--muted); }
    .source { display: inline-block; font-size: .75rem; padding: 0 .4rem; border-radius: 4px; background: #eef0fb; color: var(--accent); }
    .reason { display: block; font-size: .85rem; color: var(--muted); }
    .small { font-size: .85rem; color: var(--muted); }
    .notice { background: #fff8e1; border: 1px solid #f0d98c; padding: .5rem .8rem; border-radius: 6px; }
    .error { background: #fdecea; border: 1px solid #f5c2bd; padding: .5rem .8rem; border-radius: 6px; }
    .status.active { color: #1e7b34; font-weight: 600; }
    form.inline { display: inline; }
    form.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
    form.stack { display: grid; gap: .4rem; max-width: 28rem; }
    input { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; }
    button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
    form.inline button { padding: 0 .5rem; font-size: .8rem; }
    code { font-size: .85rem; word-break: break-all; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    @media (max-width: 600px) { body { font-size: 15px; } main { padding: .6rem; } th, td { padding: .25rem .35rem; } }
    """

    /// Every template, registered by name.
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in [("layout", layout), ("login", login), ("error", error), ("overview", overview), ("data", data), ("models", models),
                             ("segments", segments), ("user-search", userSearch), ("user", user), ("song-search", songSearch), ("song", song),
                             ("onboarding", onboarding), ("new-songs", newSongs), ("clusters", clusters)] {
            try library.register(text, named: name)
        }
        return library
    }
}
