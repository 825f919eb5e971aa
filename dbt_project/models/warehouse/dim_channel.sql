-- Intake channels of 诉求 and registration channels: one row per (domain, channel).
-- The values are the contract's in_set lists (plugins/msdw/contracts/feeds).
with channels as (
    select * from (
        values
        ('complaints', '12315平台', '12315', 1),
        ('complaints', '12345热线', '12345', 2),
        ('complaints', '信访', '信访', 3),
        ('complaints', '来人来信', '来人来信', 4),
        ('complaints', '转办函', '转办函', 5),
        ('registration', '全程电子化', '全程电子化', 1),
        ('registration', '窗口', '窗口', 2)
    ) as v (channel_domain, channel, channel_group, sort_order)
)

select
    {{ surrogate_key(['channel_domain', 'channel']) }} as channel_key,
    channel_domain,
    channel,
    channel_group,
    sort_order
from channels
