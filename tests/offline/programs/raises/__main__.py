import pulumi_aws as aws

aws.s3.BucketV2("logs")
raise RuntimeError("the team forgot to set a bucket policy")
