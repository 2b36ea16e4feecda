"""Accounts that bought followers: a sudden jump in the reported follower count, engagement that
stays where it was, served by every endpoint that shows a follower count — and nothing else of
the world changes."""

from __future__ import annotations

import orjson

from tagpulse.platforms.sandbox.routes_user import FOLLOWERS_QUERY_HASH
from tagpulse.platforms.sandbox.server import SandboxServer
from tagpulse.platforms.sandbox.social import SocialWorld
from tagpulse.platforms.sandbox.social_graph import SocialConfig
from tagpulse.platforms.sandbox.social_truth import profile_truth, users_listing
from tagpulse.platforms.sandbox.tiktok_world import tiktok_user_truth
from tagpulse.platforms.sandbox.world import DAY, HOUR, World
from tagpulse.platforms.sandbox.x_world import x_user_truth

from .conftest import ManualClock, client
from .test_user_endpoints import graphql, profile


def test_a_few_ordinary_accounts_buy_many_followers_at_once(social: SocialWorld) -> None:
    assert len(social.bought) == 4
    scale = social.config.follower_scale
    for idx, bought in social.bought.items():
        account = social.accounts[idx]
        assert bought.account == idx
        assert not (account.influencer or account.is_private or account.ever_deleted)
        assert social.start + DAY <= bought.at <= social.start + 9 * DAY
        before = social.follower_count(account, bought.at - 1)
        after = social.follower_count(account, bought.at)
        real = len(social.followers(account, bought.at)) * scale
        assert before == len(social.followers(account, bought.at - 1)) * scale
        assert after == real + bought.count and bought.count >= 8 * real > 0
        assert social.bought_followers(account, bought.at - 1) == 0
        assert social.bought_followers(account, bought.at + 30 * DAY) == bought.count
    listing = {u["id"]: u for u in users_listing(social)}
    marked = {uid for uid, u in listing.items() if u["bought_followers"] is not None}
    assert marked == {social.accounts[i].id for i in social.bought}


def test_nothing_else_changes_and_engagement_stays(social: SocialWorld) -> None:
    honest = World(seed=7, social_config=SocialConfig(bought_share=0.0)).social
    assert honest.bought == {}
    assert honest.accounts == social.accounts and honest.graph == social.graph
    t = social.start + 30 * DAY
    for account in social.accounts[::7]:
        if account.idx not in social.bought:
            other = honest.accounts[account.idx]
            assert social.follower_count(account, t) == honest.follower_count(other, t)
    for idx, bought in social.bought.items():
        account = social.accounts[idx]
        posts = social.posts_at(account, t)
        assert posts == honest.posts_at(honest.accounts[idx], t)
        after = [p for p in posts if p.taken_at > bought.at]
        assert after, "a buyer keeps posting after the jump"
        for post in posts[:20]:
            assert social.like_count(post, t) == honest.like_count(post, t)
            assert social.comment_count(post, t) == honest.comment_count(post, t)


def test_servers_answer_the_jumped_counts_over_time(
    server: SandboxServer, social: SocialWorld, world: World, clock: ManualClock
) -> None:
    idx, bought = min(social.bought.items(), key=lambda item: item[1].at)
    account = social.accounts[idx]
    seen = []
    for at in (bought.at - 2 * HOUR, bought.at + 2 * HOUR):
        clock.t = at
        with client(server) as http:
            user = orjson.loads(profile(http, account.username).content)["data"]["user"]
            variables = {"id": account.id, "first": 24}
            follows = graphql(http, variables, query_hash=FOLLOWERS_QUERY_HASH)
        truth = profile_truth(social, account.username, at)
        assert truth is not None
        count = user["edge_followed_by"]["count"]
        assert count == truth["followers"] == social.follower_count(account, at)
        listed = orjson.loads(follows.content)["data"]["user"]["edge_followed_by"]
        assert listed["count"] == count
        x_truth = x_user_truth(world, account.username, at)
        tiktok_truth = tiktok_user_truth(world, account.username, at)
        assert x_truth is not None and tiktok_truth is not None
        assert x_truth["followers"] == tiktok_truth["followers"] == count
        seen.append((count, truth["followers_bought"]))
    (before, bought_before), (after, bought_after) = seen
    assert bought_before == 0 and bought_after == bought.count
    assert after - before >= bought.count - social.config.follower_scale
